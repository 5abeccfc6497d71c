import { copyFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handshake } from '../../../src/plugins/protocol/handshake.js';
import { startRpcProcess } from '../../../src/plugins/protocol/rpc-process.js';
import { tempDir } from '../helpers.js';

/** Outside the repository, so the example runs as it would in a user's install_location (no package.json). */
function example(): string {
  const exe = join(tempDir(), 'row-count-check');
  copyFileSync(resolve('examples/binary-plugin/row-count-check'), exe);
  return exe;
}

describe('binary plugin protocol', () => {
  it('reads the example plugin spec through the handshake', async () => {
    const { plugin } = await handshake(example(), { label: 'example' });
    expect(plugin).toMatchObject({ name: 'row-count-check', version: '0.3.0', dialect: 'v3' });
    expect(plugin.configs.find((c) => c.name === 'WAREHOUSE_TOKEN')).toMatchObject({
      secret: true,
      required: true,
    });
  });

  it('answers a batch in order and reports unknown methods as errors', async () => {
    const logs: string[] = [];
    const proc = startRpcProcess(example(), { label: 'example', onLog: (l) => logs.push(l) });
    const [a, b] = await proc.batch<{ protocol: number }>([
      { method: 'handshake', params: { protocol: 1 } },
      { method: 'handshake', params: { protocol: 1 } },
    ]);
    expect([a!.protocol, b!.protocol]).toEqual([1, 1]);
    await expect(proc.call('generate_destination', {})).rejects.toMatchObject({
      code: 'PLUGIN_PROTOCOL_ERROR',
      message: expect.stringContaining('method not found'),
    });
    await proc.close();
    expect(logs).toContain('row-count-check: ready');
  });

  it('times out a plugin that never answers, naming the method', async () => {
    const exe = join(tempDir(), 'silent');
    writeFileSync(exe, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    await expect(handshake(exe, { label: 'silent', timeoutMs: 200 })).rejects.toMatchObject({
      code: 'PLUGIN_PROTOCOL_TIMEOUT',
      message: expect.stringContaining('"handshake"'),
    });
  });

  it('rejects a handshake whose spec is invalid', async () => {
    const exe = join(tempDir(), 'bad-spec');
    const res = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      result: { protocol: 1, spec: { version: 3, name: 'x' } },
    });
    writeFileSync(exe, `#!/bin/sh\nread line\nprintf '%s\\n' '${res}'\n`, { mode: 0o755 });
    await expect(handshake(exe, { label: 'bad-spec' })).rejects.toMatchObject({
      code: 'PLUGIN_SPEC_INVALID',
    });
  });
});
