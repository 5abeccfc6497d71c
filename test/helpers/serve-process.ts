import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { EXAMPLE_PLUGINS } from './temp-project.js';

const BIN = join(import.meta.dirname, '../../bin/optimus.js');

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** Everything the server wrote to stdout (its JSON log lines). */
  stdout: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** `optimus serve` as a real process on a free port, serving the example plugins. */
export async function startServe(
  dataDir: string,
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
  configText = `serve: {host: 127.0.0.1}\nplugins: {install_location: ${JSON.stringify(EXAMPLE_PLUGINS)}}\n`,
): Promise<ServeProcess> {
  const config = join(dataDir, '..', `server-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(config, configText);
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '-c', config, '--data-dir', dataDir, '--port', '0', '--json', ...extraArgs],
    {
      env: { ...process.env, OPTIMUS_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const line = out.split('\n').find((l) => l.startsWith('{"listening"'));
      if (line) {
        child.stdout!.off('data', onData);
        resolve(JSON.parse(line).listening);
      }
    };
    child.stdout!.on('data', onData);
    exited.then((code) =>
      reject(new Error(`optimus serve exited with ${code} before listening:\n${out}${err}`)),
    );
  });
  return { url, child, stderr: () => err, stdout: () => out, exited };
}

/** A generated job using the example plugins: a task, two hooks and a 1 KiB asset. */
export function generatedJob(i: number, variant = ''): Record<string, unknown> {
  return {
    version: 3,
    name: `gen-${i}`,
    owner: 'bench@acme.example',
    description: `generated ${variant}`,
    schedule: { start_date: '2026-01-01', interval: `${i % 60} * * * *` },
    task: { name: 'python-script', config: { ENTRY: 'main.py', N: String(i) }, window: { size: '1h' } },
    hooks: [
      { name: 'audit', type: 'data-audit', stage: 'pre', config: { AUDIT_TABLE: `acme.raw.t_${i}` } },
      { name: 'publish', type: 'publish-event', config: { TOPIC: `t.${i}` } },
    ],
    assets: { 'main.py': `# job ${i} ${variant}\n${'x'.repeat(1000)}\n` },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies of every route
type ResponseJson = any;

export async function api(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: ResponseJson }> {
  const r = await fetch(url + path, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: r.status, json: await r.json() };
}

/**
 * One `optimus serve` for a whole test file, on a temp root that lives as long as the file (unlike
 * tempDir(), which is cleaned after each test), stopped and removed after the last test.
 */
export function serveForSuite(extraArgs: string[] = []): { readonly url: string; readonly root: string } {
  let root = '';
  let server: ServeProcess | undefined;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'optimus-suite-'));
    server = await startServe(join(root, 'data'), extraArgs);
  }, 60_000);
  afterAll(async () => {
    if (server) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    rmSync(root, { recursive: true, force: true });
  });
  return {
    get url() {
      return server!.url;
    },
    get root() {
      return root;
    },
  };
}
