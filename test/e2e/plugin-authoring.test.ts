/**
 * The plugin author's whole loop through the built CLI, for each kind of scaffold as `plugin init`
 * writes it, untouched: `plugin test` passes, `plugin run` runs the sample (process executor; the
 * docker executor where an engine starts), `plugin pack` makes the artifact, a server installs it
 * through a `file` provider (`serve --install-plugins`, the printed sha256 pinned), and the sample
 * job deploys to that server, runs there with its secret set, and (with the resolver) shows the
 * destination and sources its plugin inferred.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runOptimus } from '../helpers/cli.js';
import { buildTestImages, findDockerEngine, TEST_IMAGE } from '../helpers/docker.js';
import { type ServeProcess, startServe } from '../helpers/serve-process.js';

const SECRET = 'e2e-secret-value-7f3a';

interface Variant {
  name: string;
  kind: 'yaml' | 'binary';
  mod: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'yaml-plain', kind: 'yaml', mod: false },
  { name: 'yaml-resolver', kind: 'yaml', mod: true },
  { name: 'binary-plain', kind: 'binary', mod: false },
  { name: 'binary-resolver', kind: 'binary', mod: true },
];

let root: string;
let server: ServeProcess | undefined;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'optimus-authoring-'));
});

afterAll(async () => {
  if (server) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  rmSync(root, { recursive: true, force: true });
});

function cli(args: string[], opts: { cwd?: string; input?: string } = {}): CliResult {
  return runOptimus(args, {
    cwd: opts.cwd ?? root,
    ...(opts.input === undefined ? {} : { input: opts.input }),
    env: { OPTIMUS_CACHE_DIR: join(root, 'cache'), HOME: root },
  });
}

function ok(r: CliResult, what: string): CliResult {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

const packed = new Map<string, { file: string; sha256: string; job: string }>();

describe.each(VARIANTS)('a $kind scaffold ($name), untouched', (v) => {
  const dir = () => join(root, v.name);

  it('is written by plugin init and passes plugin test', () => {
    ok(
      cli(['plugin', 'init', v.name, '--kind', v.kind, ...(v.mod ? ['--mod', 'dependency-resolver'] : [])]),
      'plugin init',
    );
    const r = cli(['plugin', 'test', dir(), '--json']);
    const report = r.json();
    const failed = report.checks.filter((c: { ok: boolean; skipped?: boolean }) => !c.ok && !c.skipped);
    expect(failed).toEqual([]);
    expect(r.code).toBe(0);
    expect(report.ok).toBe(true);
    const names = report.checks.map((c: { name: string }) => c.name);
    expect(names).toEqual(expect.arrayContaining(['spec', 'questions', 'sample job']));
    if (v.kind === 'binary') expect(names).toContain('handshake');
    // The scaffold's own expectations ran, and the resolver was asked when there is one.
    expect(names.some((n: string) => n.startsWith('tests/sample.yaml'))).toBe(true);
    const resolver = report.checks.find((c: { name: string }) => c.name === 'resolver');
    if (v.mod) expect(resolver).toMatchObject({ ok: true });
    else expect(resolver).toMatchObject({ skipped: true });
  });

  it('runs its sample with plugin run (process executor), the secret masked', () => {
    const r = cli(['plugin', 'run', dir(), '--secret', `API_TOKEN=${SECRET}`]);
    expect(r.stderr + r.stdout).not.toContain(SECRET);
    ok(r, 'plugin run');
    expect(r.stdout).toContain('API_TOKEN=****');
    expect(r.stdout).toMatch(/✓ succeeded/);
    const json = cli([
      'plugin',
      'run',
      dir(),
      '--secret',
      `API_TOKEN=${SECRET}`,
      '--json',
      '--no-build',
    ]).json();
    expect(json.ok).toBe(true);
    expect(json.result.exit_code).toBe(0);
    expect(JSON.stringify(json)).not.toContain(SECRET);
  });

  it('packs into an artifact with its sha256 and plugins.list entry', () => {
    const out = join(root, 'artifacts');
    const r = ok(cli(['plugin', 'pack', dir(), '--out', out, '--json']), 'plugin pack');
    const json = r.json();
    expect(json.ok).toBe(true);
    expect(json.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(basename(json.file)).toBe(v.kind === 'binary' ? `${v.name}-0.1.0.tar.gz` : `${v.name}-0.1.0.yaml`);
    expect(json.entry).toMatchObject({ name: v.name, sha256: json.sha256 });
    const sample = readFileSync(join(dir(), 'sample', 'job.yaml'), 'utf8');
    packed.set(v.name, {
      file: json.file,
      sha256: json.sha256,
      job: /^name: ["']?([^"'\s]+)/m.exec(sample)![1]!,
    });
  });
});

describe('the packed plugins on a server', () => {
  let project: string;
  const inProject = (args: string[], input?: string) =>
    cli([...args, '--dir', project, '--host', server!.url], input === undefined ? {} : { input });

  beforeAll(async () => {
    if (packed.size !== VARIANTS.length) return;
    const artifacts = join(root, 'artifacts');
    const list = [...packed.entries()]
      .map(
        ([name, p]) =>
          `    - {name: ${name}, provider: local, url: ${basename(p.file)}, sha256: ${p.sha256}}`,
      )
      .join('\n');
    server = await startServe(
      join(root, 'data'),
      ['--install-plugins'],
      {},
      `serve: {host: 127.0.0.1}
plugins:
  install_location: ${JSON.stringify(join(root, 'server-plugins'))}
  providers:
    - {name: local, type: file, root: ${JSON.stringify(artifacts)}}
  list:
${list}
`,
    );
    project = join(root, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'optimus.yaml'),
      'version: 1\nproject: {name: authoring-e2e}\nnamespaces:\n  - {name: sales, job: {path: sales/jobs}}\n',
    );
    for (const [name, p] of packed) {
      cpSync(join(root, name, 'sample'), join(project, 'sales', 'jobs', p.job), { recursive: true });
    }
    ok(inProject(['project', 'register']), 'project register');
    ok(inProject(['namespace', 'register']), 'namespace register');
  }, 120_000);

  it('installs each through the file provider, pinned, and deploys its sample job', (ctx) => {
    if (!server) ctx.skip('an earlier step failed: nothing was packed');
    const lock = readFileSync(join(root, 'plugins.lock.yaml'), 'utf8');
    for (const [name, p] of packed) {
      expect(lock).toContain(name);
      expect(lock).toContain(p.sha256);
    }
    ok(inProject(['secret', 'set', 'API_TOKEN'], SECRET), 'secret set');
    const r = ok(inProject(['deploy', '--json']), 'deploy');
    expect(r.stdout).not.toContain(SECRET);
  });

  it('shows what the resolvers inferred, and runs each sample job on the server', (ctx) => {
    if (!server) ctx.skip('an earlier step failed: nothing was packed');
    for (const v of VARIANTS) {
      const { job } = packed.get(v.name)!;
      const inspect = ok(inProject(['job', 'inspect', job, '--json']), `job inspect ${job}`).json();
      const text = JSON.stringify(inspect);
      if (v.mod) {
        expect(text).toContain('bigquery://acme-dw:sales.orders_daily');
        expect(text).toContain('bigquery://acme-dw:sales.orders');
      }
      const run = inProject(['job', 'run', job, '--wait', '--scheduled-at', '2030-01-02T02:00:00Z']);
      expect(run.stdout + run.stderr).not.toContain(SECRET);
      ok(run, `job run ${job}`);
      const logs = ok(inProject(['job', 'logs', job]), `job logs ${job}`);
      expect(logs.stdout).not.toContain(SECRET);
      expect(logs.stdout).toContain('2030-01-01T00:00:00Z');
    }
  });
});

describe('plugin run with the docker executor', () => {
  it('runs a yaml scaffold in a real engine', async (ctx) => {
    const engine = await findDockerEngine();
    if ('skipped' in engine) return ctx.skip(engine.skipped);
    try {
      await buildTestImages(engine.host);
      const dir = join(root, 'docker-plain');
      ok(cli(['plugin', 'init', 'docker-plain', '--dir', dir]), 'plugin init');
      const r = runOptimus(
        [
          'plugin',
          'run',
          dir,
          '--executor',
          'docker',
          '--image',
          TEST_IMAGE,
          '--secret',
          `API_TOKEN=${SECRET}`,
        ],
        { cwd: root, env: { DOCKER_HOST: engine.host } },
      );
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      ok(r, 'plugin run --executor docker');
      expect(r.stdout).toContain('docker executor');
      expect(r.stdout).toMatch(/✓ succeeded/);
    } finally {
      await engine.stop();
    }
  }, 180_000);
});
