/**
 * Small protocol-speaking plugins for the mod host's tests: plain Node scripts written into a temp
 * dir, each appending its pid to a file when it starts, so a test can count processes.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakePluginOptions {
  /** The name the handshake reports; default the file name. */
  specName?: string;
  /** Mods listed in the handshake spec; default [dependency_resolver]. */
  mods?: string[];
  /** JavaScript run per job, with `job`, `params` and `method` in scope, before answering. */
  perJob?: string;
  /** The handshake spec's `configs`. */
  configs?: unknown[];
  /** JavaScript run at handshake (e.g. `process.exit(3)`). */
  atHandshake?: string;
}

export function tempPluginDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'optimus-mods-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes an executable plugin `name` into `dir`; returns its path. */
export function writeFakePlugin(dir: string, name: string, o: FakePluginOptions = {}): string {
  const spec = {
    version: 3,
    name: o.specName ?? name,
    plugin_versions: { default: { image: 'docker.io/acme/x', tag: '1', entrypoint: { script: 'run' } } },
    mods: o.mods ?? ['dependency_resolver'],
    ...(o.configs ? { configs: o.configs } : {}),
  };
  const file = join(dir, name);
  writeFileSync(
    file,
    `#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
fs.appendFileSync(path.join(__dirname, ${JSON.stringify(`${name}.pids`)}), process.pid + '\\n');
const spec = ${JSON.stringify(spec)};
function answer(req) {
  const { id, method, params } = req;
  if (method === 'handshake') {
    ${o.atHandshake ?? ''}
    return { jsonrpc: '2.0', id, result: { protocol: 1, spec } };
  }
  const job = params && params.job;
  ${o.perJob ?? ''}
  if (method === 'generate_destination')
    return { jsonrpc: '2.0', id, result: { destination: params.config.DEST ? 'bigquery://' + params.config.DEST : null } };
  if (method === 'generate_dependencies')
    return { jsonrpc: '2.0', id, result: { dependencies: (params.config.READS || '').split(',').filter(Boolean).map((t) => 'bigquery://' + t) } };
  return { jsonrpc: '2.0', id, error: { code: -32601, message: 'unknown method ' + method } };
}
let buf = '';
process.stdin.on('data', (chunk) => {
  buf += chunk;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (!line.trim()) continue;
    const msg = JSON.parse(line);
    const out = Array.isArray(msg) ? msg.map(answer) : answer(msg);
    process.stdout.write(JSON.stringify(out) + '\\n');
  }
});
process.stdin.on('end', () => process.exit(0));
`,
  );
  chmodSync(file, 0o755);
  return file;
}
