/**
 * One way of answering, for every command of the program: `--json` prints one document with `ok`
 * and snake_case keys on success and on failure, unknown commands and options answer in JSON too,
 * and a missing `--dir` is bad usage (exit 2) everywhere. The command list comes from
 * buildProgram(), so a new command without a case here fails the test.
 */
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { type CliResult, runOptimus } from '../helpers/cli.js';
import { serveForSuite } from '../helpers/serve-process.js';
import { EXAMPLE, EXAMPLE_PLUGINS } from '../helpers/temp-project.js';

// No runner: `job cancel` needs a run that is still queued when it is cancelled (with the runner on,
// the run could end first and the cancel be refused, as it should be).
const server = serveForSuite(['--no-runner']);
let root: string;
let project: string;
let config: string;

beforeAll(() => {
  root = server.root;
  project = join(root, 'project');
  // The example's file provider reads ../plugins, so the plugins go beside the project.
  cpSync(EXAMPLE, project, { recursive: true });
  cpSync(EXAMPLE_PLUGINS, join(root, 'plugins'), { recursive: true });
  config = join(project, 'optimus.yaml');
});

/** `serve` runs until stopped and answers with log lines; test/e2e/serve.test.ts covers it. */
const LONG_RUNNING = new Set(['serve']);

function leafCommands(cmd: Command, prefix: string[] = []): { path: string; command: Command }[] {
  return cmd.commands.flatMap((c) => {
    const path = [...prefix, c.name()];
    return c.commands.length ? leafCommands(c, path) : [{ path: path.join(' '), command: c }];
  });
}
const LEAVES = leafCommands(buildProgram()).filter((l) => !LONG_RUNNING.has(l.path));
const hasOption = (c: Command, flag: string) => c.options.some((o) => o.long === flag);

const run = (args: string[], input?: string): CliResult =>
  runOptimus(args, {
    cwd: root,
    ...(input === undefined ? {} : { input }),
    env: { OPTIMUS_CACHE_DIR: join(root, 'cache'), OPTIMUS_HOST: server.url },
  });

const set = (pairs: Record<string, string>) =>
  Object.entries(pairs).flatMap(([k, v]) => ['--set', `${k}=${v}`]);

/** A successful run of each command, in an order where each finds what it needs. */
const SUCCESS: [string, () => string[]][] = [
  ['plugin validate', () => [EXAMPLE_PLUGINS]],
  ['plugin schema', () => []],
  ['plugin image', () => ['--all', '--plugins', EXAMPLE_PLUGINS, '--output', join(root, 'wrapper-images')]],
  ['plugin init', () => ['authored', '--kind', 'binary', '--dir', join(root, 'authored')]],
  ['plugin build', () => [join(root, 'authored')]],
  ['plugin test', () => [join(root, 'authored'), '--no-build']],
  ['plugin run', () => [join(root, 'authored'), '--no-build', '--secret', 'API_TOKEN=t']],
  ['plugin pack', () => [join(root, 'authored'), '--no-build', '--out', join(root, 'artifacts')]],
  ['plugin install', () => ['-c', config]],
  ['plugin list', () => ['-c', config]],
  ['plugin diff', () => ['-c', config]],
  ['plugin clean', () => ['-c', config, '--dry-run']],
  ['plugin available', () => ['-c', config]],
  ['plugin sync', () => ['--dir', project]],
  ['job validate', () => ['--dir', project]],
  ['job graph', () => ['campaign-performance', '--dir', project]],
  ['scheduler compile', () => ['--dir', project, '--out', join(root, 'dags')]],
  ['project register', () => ['--dir', project]],
  ['namespace register', () => ['--dir', project]],
  ['deploy', () => ['--dir', project]],
  ['job inspect', () => ['campaign-performance', '--dir', project]],
  [
    'job run-input',
    () => [
      'attribution',
      ...['--scheduled-at', '2026-03-02T03:00:00Z', '--type', 'task', '--name', 'python-script'],
      ...['--output-dir', join(root, 'run-input'), '--dir', project],
    ],
  ],
  ['job run', () => ['campaign-performance', '--dir', project]],
  ['job runs', () => ['campaign-performance', '--dir', project]],
  ['job logs', () => ['campaign-performance', '--dir', project]],
  ['job cancel', () => ['campaign-performance', '--run', freshRun(), '--dir', project]],
  ['job retry', () => ['campaign-performance', cancelledRun(), '--dir', project]],
  [
    'replay create',
    () => ['campaign-performance', '--from', '2026-03-01', '--to', '2026-03-02', '--dir', project],
  ],
  ['replay list', () => ['--dir', project]],
  ['replay status', () => [latestReplay(), '--dir', project]],
  ['replay cancel', () => [latestReplay(), '--dir', project]],
  ['project describe', () => ['--dir', project]],
  ['namespace list', () => ['--dir', project]],
  ['namespace describe', () => ['marketing', '--dir', project]],
  ['secret set', () => ['JSON_TEST', 'value-1', '--dir', project]],
  ['secret list', () => ['--dir', project]],
  ['secret delete', () => ['JSON_TEST', '--dir', project]],
  [
    'job create',
    () => [
      '--dir',
      project,
      '--yes',
      ...set({
        namespace: 'finance',
        name: 'json-job',
        owner: 'o@acme.example',
        task: 'python-script',
        ENTRY: 'main.py',
      }),
    ],
  ],
  [
    'job addhook',
    () => [
      'json-job',
      '--dir',
      project,
      '--yes',
      ...set({ plugin: 'data-audit', hook_name: 'audit', stage: 'post', AUDIT_TABLE: 'acme.x.y' }),
    ],
  ],
  ['init', () => ['--dir', join(root, 'new-project'), '--project', 'fresh', '--namespace', 'a', '--yes']],
  ['version', () => ['--wait', '5']],
];

/** A run of its own for `job cancel` to cancel (scheduled where no other run is). */
function freshRun(at = '2099-01-01T00:00:00Z'): string {
  const r = run([
    'job',
    'run',
    'campaign-performance',
    '--scheduled-at',
    at,
    '--dir',
    project,
    '--host',
    server.url,
  ]);
  const id = /^run (\d+) /.exec(r.stdout)?.[1];
  if (!id) throw new Error(`job run: ${r.stdout}${r.stderr}`);
  return id;
}

/** A run of its own, cancelled before it started, for `job retry` to queue again. */
function cancelledRun(): string {
  const id = freshRun('2099-01-02T00:00:00Z');
  const r = run([
    'job',
    'cancel',
    'campaign-performance',
    '--run',
    id,
    '--dir',
    project,
    '--host',
    server.url,
  ]);
  if (r.code !== 0) throw new Error(`job cancel: ${r.stdout}${r.stderr}`);
  return id;
}

/** The newest replay's id, for `replay status` and `replay cancel`. */
function latestReplay(): string {
  const r = run(['replay', 'list', '--json', '--dir', project, '--host', server.url]);
  const id = (r.json() as { replays?: { id: number }[] }).replays?.[0]?.id;
  if (!id) throw new Error(`replay list: ${r.stdout}${r.stderr}`);
  return String(id);
}

/** Keys written by users (config names, asset files) or by another standard (JSON Schema). */
const DATA_KEYS = new Set(['config', 'assets', 'schema', 'default_config', 'default_assets', 'spec']);
/** Maps of a node's variables and files (`plugin run`), keyed by their names: data when all values are strings. */
const DATA_MAPS = new Set(['envs', 'secrets', 'files']);
const isStringMap = (v: unknown) =>
  v !== null &&
  typeof v === 'object' &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === 'string');

function badKeys(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => badKeys(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(/^[a-z][a-z0-9_]*$/.test(k) ? [] : [`${path}.${k}`]),
    ...(DATA_KEYS.has(k) || (DATA_MAPS.has(k) && isStringMap(v)) ? [] : badKeys(v, `${path}.${k}`)),
  ]);
}

function expectJsonAnswer(r: CliResult, ok: boolean, what: string) {
  let doc: Record<string, unknown>;
  try {
    doc = r.json();
  } catch {
    throw new Error(`${what}: stdout is not one JSON document (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  // Soft: one run reports every command that breaks the contract, not only the first.
  expect.soft(doc.ok, `${what}: ok\n${r.stdout}\n${r.stderr}`).toBe(ok);
  expect.soft(badKeys(doc), `${what}: keys not in snake_case`).toEqual([]);
  if (ok) expect.soft(r.code, `${what}: exit code\n${r.stderr}`).toBe(0);
  else expect.soft([1, 2], `${what}: exit code ${r.code}`).toContain(r.code);
  expect.soft(r.stdout + r.stderr, what).not.toMatch(/\n\s+at .+:\d+:\d+/);
}

describe('--json on every command', () => {
  it('has a success case for every command of the program', () => {
    expect(SUCCESS.map(([p]) => p).sort()).toEqual(LEAVES.map((l) => l.path).sort());
  });

  it('answers a success with ok: true and snake_case keys', { timeout: 240_000 }, () => {
    const commands = new Map(LEAVES.map((l) => [l.path, l.command]));
    for (const [path, args] of SUCCESS) {
      // optimus.yaml names another host: point the commands that talk to a server at this one.
      const host = path !== 'init' && hasOption(commands.get(path)!, '--host') ? ['--host', server.url] : [];
      const r = run([...path.split(' '), ...args(), ...host, '--json']);
      expectJsonAnswer(r, true, path);
    }
    expect(existsSync(join(root, 'new-project/optimus.yaml'))).toBe(true);
  });

  it('answers a failure with ok: false, an error code and snake_case keys', { timeout: 240_000 }, () => {
    const empty = join(root, 'new-project/a'); // a folder without optimus.yaml
    for (const { path, command } of LEAVES) {
      // plugin sync needs no project (it caches a server's specs): an unreachable server fails it.
      // version answers without a project; waiting for a server that never answers is its failure.
      const args =
        path === 'plugin sync' || path === 'version'
          ? ['--dir', empty, '--host', 'http://127.0.0.1:1', ...(path === 'version' ? ['--wait', '0.5'] : [])]
          : hasOption(command, '--dir')
            ? ['--dir', empty]
            : hasOption(command, '--config')
              ? ['-c', join(root, 'absent.yaml')]
              : path === 'plugin validate'
                ? [join(root, 'absent')]
                : ['--no-such-option'];
      const required = command.registeredArguments.filter((a) => a.required).map(() => 'x');
      const r = run([...path.split(' '), ...required, ...args, '--json']);
      // init makes the folder it is given; a question left unanswered without a terminal is its failure.
      if (path === 'init') expect.soft(r.code, r.stdout).toBe(2);
      expectJsonAnswer(r, false, path);
    }
  });

  it('answers an unknown command or option in JSON, exit 2', () => {
    const cmd = run(['job', 'frobnicate', '--json']);
    expect(cmd.code).toBe(2);
    expect(cmd.json()).toEqual({
      ok: false,
      error: {
        code: 'UNKNOWN_COMMAND',
        message: "unknown command 'frobnicate'",
        hint: 'see `optimus job --help`',
      },
    });
    const opt = run(['job', 'validate', '--dri', project, '--json']);
    expect(opt.code).toBe(2);
    expect(opt.json()).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_OPTION', hint: 'did you mean --dir?' },
    });
    expect(opt.stderr).toBe('');
    const human = run(['job', 'validate', '--dri', project]);
    expect(human.code).toBe(2);
    expect(human.stdout).toBe('');
    expect(human.stderr).toBe("error: unknown option '--dri'\nhint: did you mean --dir?\n");
  });
});

describe('exit codes', () => {
  it('exits 2 when --dir does not exist, for every command that takes --dir', { timeout: 120_000 }, () => {
    const missing = join(root, 'no-such-folder');
    // init and plugin init make the folder they are given.
    const withDir = LEAVES.filter(
      (l) => hasOption(l.command, '--dir') && l.path !== 'init' && l.path !== 'plugin init',
    );
    expect(withDir.length).toBeGreaterThan(10);
    for (const { path, command } of withDir) {
      const required = command.registeredArguments.filter((a) => a.required).map(() => 'x');
      const r = run([...path.split(' '), ...required, '--dir', missing]);
      expect({ path, code: r.code, stderr: r.stderr }).toEqual({
        path,
        code: 2,
        stderr: `error: --dir ${missing} does not exist\nhint: pass --dir <project root>, the folder holding optimus.yaml\n`,
      });
    }
  });

  it('creates the folder init is given instead of refusing it', () => {
    const dir = join(root, 'made-by-init');
    const r = run(['init', '--dir', dir, '--project', 'x', '--namespace', 'a', '--yes']);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'optimus.yaml'))).toBe(true);
  });

  it('exits 2 for a folder without optimus.yaml and 1 for an optimus.yaml with problems', () => {
    const empty = join(root, 'made-by-init/a');
    expect(run(['job', 'validate', '--dir', empty]).code).toBe(2);
    expect(run(['deploy', '--dir', empty]).code).toBe(2);
    const broken = join(root, 'broken');
    cpSync(EXAMPLE, broken, { recursive: true });
    writeFileSync(join(broken, 'optimus.yaml'), 'version: 1\nproject: {name: 7}\nnamespaces: nope\n');
    expect(run(['job', 'validate', '--dir', broken]).code).toBe(1);
    expect(run(['deploy', '--dir', broken]).code).toBe(1);
  });
});
