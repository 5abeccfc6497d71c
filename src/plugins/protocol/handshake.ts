/** The first call to every binary plugin: which protocol it speaks and its (v3) spec. */
import { OptimusError } from '../../core/errors.js';
import type { Plugin } from '../../core/plugin.js';
import { errorsOf, type Problem } from '../../core/problem.js';
import { loadPluginObject } from '../../spec/plugin-spec.js';
import { PROTOCOL_VERSION, startRpcProcess } from './rpc-process.js';

export interface HandshakeResult {
  plugin: Plugin;
  /** The spec as the plugin sent it. */
  spec: unknown;
  problems: Problem[];
}

export async function handshake(
  executable: string,
  opts: { label: string; timeoutMs?: number },
): Promise<HandshakeResult> {
  const proc = startRpcProcess(executable, { label: opts.label, timeoutMs: opts.timeoutMs ?? 10_000 });
  try {
    const res = await proc.call<{ protocol?: unknown; spec?: unknown }>('handshake', {
      protocol: PROTOCOL_VERSION,
      host: 'optimus',
    });
    if (!res || typeof res !== 'object' || res.protocol !== PROTOCOL_VERSION) {
      throw new OptimusError(
        'PLUGIN_PROTOCOL_UNSUPPORTED',
        `${opts.label}: handshake answered protocol ${JSON.stringify(res?.protocol)}, this host speaks ${PROTOCOL_VERSION}`,
        { category: 'invalid', hint: 'see docs/plugin-protocol.md' },
      );
    }
    const loaded = loadPluginObject(res.spec, `${opts.label} (handshake)`);
    if (!loaded.plugin) {
      const first = errorsOf(loaded.problems)
        .slice(0, 3)
        .map((p) => `${p.path ? `${p.path}: ` : ''}${p.message}`)
        .join('; ');
      throw new OptimusError(
        'PLUGIN_SPEC_INVALID',
        `${opts.label}: the handshake spec is invalid: ${first || 'not a plugin spec'}`,
        {
          category: 'invalid',
        },
      );
    }
    return { plugin: loaded.plugin, spec: res.spec, problems: loaded.problems };
  } finally {
    await proc.close(500);
  }
}
