/**
 * `optimus job run | runs | logs | cancel` against a real `optimus serve`, on a small project of
 * its own: `hello` (a task that prints to stdout and stderr, and a post hook), `napping` (a task
 * that sleeps for minutes, so a run stays unfinished until it is cancelled) and `broken` (exits 3).
 * Start dates lie in the future, so the scheduler creates no runs of its own.
 *
 * The server runs its embedded runner, so a triggered run executes at once; the tests that only
 * trigger, list or cancel hold whether the runner got to a run yet or not.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type CliResult, runOptimus } from '../helpers/cli.js';
import { api, type ServeProcess, startServe } from '../helpers/serve-process.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

const plugin = (name: string, script: string, extra = '') => `version: 3
name: ${name}
description: e2e plugin ${name}
plugin_versions:
  default: {image: docker.io/acme/${name}, tag: "1.0.0", entrypoint: {script: ${JSON.stringify(script)}}}
${extra}`;

const job = (name: string, task: string, hooks = '') => `version: 3
name: ${name}
owner: e2e@acme.example
schedule: {start_date: "2099-01-01", interval: "0 3 * * *"}
task:
  name: ${task}
  window: {size: 24h}
${hooks}`;

let root: string;
let project: string;
let server: ServeProcess;
const P = '/api/v1beta1/project/runs-e2e';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'optimus-job-run-'));
  const plugins = join(root, 'plugins');
  mkdirSync(plugins);
  writeFileSync(
    join(plugins, 'optimus-plugin-say.yaml'),
    plugin('say', 'echo "hello from $JOB_NAME"; echo "a note on stderr" >&2'),
  );
  writeFileSync(join(plugins, 'optimus-plugin-nap.yaml'), plugin('nap', 'sleep 300'));
  writeFileSync(join(plugins, 'optimus-plugin-boom.yaml'), plugin('boom', 'echo "about to fail"; exit 3'));
  project = join(root, 'project');
  const files: Record<string, string> = {
    'optimus.yaml': `version: 1
project: {name: runs-e2e}
namespaces:
  - {name: team, job: {path: team/jobs}}
`,
    'team/jobs/hello/job.yaml': job('hello', 'say', 'hooks:\n  - {name: announce, type: say, stage: post}\n'),
    'team/jobs/napping/job.yaml': job('napping', 'nap'),
    'team/jobs/broken/job.yaml': job('broken', 'boom'),
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(project, path, '..'), { recursive: true });
    writeFileSync(join(project, path), text);
  }
  server = await startServe(
    join(root, 'data'),
    [],
    {},
    `serve: {host: 127.0.0.1}\nplugins: {install_location: ${JSON.stringify(plugins)}}\n`,
  );
  for (const args of [['project', 'register'], ['namespace', 'register'], ['deploy']]) {
    const r = cli([...args]);
    if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stdout}${r.stderr}`);
  }
}, 120_000);

afterAll(async () => {
  if (server) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  rmSync(root, { recursive: true, force: true });
});

function cli(args: string[]): CliResult {
  return runOptimus([...args, '--dir', project, '--host', server.url], {
    cwd: root,
    env: { OPTIMUS_CACHE_DIR: join(root, 'cache') },
  });
}

/** The CLI as a child we can talk to while it runs (for --wait and --follow). */
function spawnCli(args: string[]): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [BIN, ...args, '--dir', project, '--host', server.url], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', OPTIMUS_CACHE_DIR: join(root, 'cache') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
  });
  return { child, output: () => output, exited: new Promise((done) => child.on('close', done)) };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let hour = 0;
function nextTime(): string {
  hour++;
  return new Date(Date.UTC(2030, 0, 1, hour)).toISOString();
}

async function triggerViaApi(jobName: string): Promise<number> {
  const r = await api(server.url, 'POST', `${P}/job/${jobName}/run`, { scheduled_at: nextTime() });
  if (r.status !== 201) throw new Error(JSON.stringify(r.json));
  return r.json.run.id;
}

/** Napping runs left unfinished would hold the runner's slots with `sleep 300` once it runs them. */
async function cancelUnfinished(jobName: string): Promise<void> {
  const { json } = await api(server.url, 'GET', `${P}/job/${jobName}/run?limit=1000`);
  for (const run of json.runs as { id: number; status: string }[]) {
    if (run.status === 'queued' || run.status === 'running')
      await api(server.url, 'POST', `${P}/job/${jobName}/run/${run.id}/cancel`);
  }
}

describe('optimus job run', () => {
  afterEach(() => cancelUnfinished('napping'));

  it('triggers a run at the given time and prints its id, status and how to follow it', () => {
    const r = cli(['job', 'run', 'napping', '--scheduled-at', '2031-05-01T06:00:00Z']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^run \d+ of napping \(scheduled 2031-05-01T06:00:00\.000Z\): (queued|running)\nnext: optimus job logs napping --run \d+ --follow --dir \S+ --host \S+\n$/,
    );
  });

  it('answers --json with the run and its nodes', () => {
    const r = cli(['job', 'run', 'napping', '--scheduled-at', '2031-05-02', '--json']);
    expect(r.code, r.stdout).toBe(0);
    const doc = r.json();
    expect(doc.ok).toBe(true);
    expect(doc.run).toMatchObject({
      job: 'napping',
      scheduled_at: '2031-05-02T00:00:00.000Z',
      trigger: 'manual',
    });
    expect(doc.run.nodes.map((n: { name: string }) => n.name)).toEqual(['nap']);
  });

  it('refuses a second run at the same time, naming the run that has it', () => {
    const first = cli(['job', 'run', 'napping', '--scheduled-at', '2031-05-03T00:00:00Z', '--json']).json();
    const again = cli(['job', 'run', 'napping', '--scheduled-at', '2031-05-03T00:00:00Z']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      new RegExp(
        `^error: job "napping" already has a run scheduled at 2031-05-03T00:00:00.000Z: run ${first.run.id} \\((queued|running)\\)\nhint: see it with \`optimus job runs napping\`, or pass another --scheduled-at\n$`,
      ),
    );
  });

  it('exits 2 for a scheduled time it cannot read, and 1 for a job that is not deployed', () => {
    const bad = cli(['job', 'run', 'napping', '--scheduled-at', 'next tuesday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: --scheduled-at "next tuesday" is not a date-time');
    const missing = cli(['job', 'run', 'nope', '--json']);
    expect(missing.code).toBe(1);
    expect(missing.json()).toMatchObject({ ok: false, error: { code: 'JOB_NOT_FOUND' } });
  });

  it('works by project name without a checkout', () => {
    const r = runOptimus(
      [
        'job',
        'runs',
        'napping',
        '--project-name',
        'runs-e2e',
        '--host',
        server.url,
        '--limit',
        '1',
        '--json',
      ],
      { cwd: root },
    );
    expect(r.code, r.stdout).toBe(0);
    expect(r.json().runs).toHaveLength(1);
  });

  it('with --wait, follows the run and exits 1 when it is cancelled meanwhile', async () => {
    const waiting = spawnCli(['job', 'run', 'napping', '--scheduled-at', nextTime(), '--wait']);
    await until('the run to be reported', () => /run (\d+) of napping/.test(waiting.output()));
    const id = Number(/run (\d+) of napping/.exec(waiting.output())![1]);
    expect((await api(server.url, 'POST', `${P}/job/napping/run/${id}/cancel`)).status).toBe(200);
    expect(await waiting.exited).toBe(1);
    const out = waiting.output();
    expect(out).toMatch(new RegExp(`run ${id} of napping \\(scheduled [^)]+\\): cancelled`));
    expect(out).toContain('nap cancelled');
    expect(out).toContain(`hint: see its output with \`optimus job logs napping --run ${id}`);
  });

  it('stops waiting on Ctrl-C, leaves the run alone and says how to cancel it', async () => {
    const waiting = spawnCli(['job', 'run', 'napping', '--scheduled-at', nextTime(), '--wait']);
    await until('the run to be reported', () => /run (\d+) of napping/.test(waiting.output()));
    const id = Number(/run (\d+) of napping/.exec(waiting.output())![1]);
    waiting.child.kill('SIGINT');
    expect(await waiting.exited).toBe(130);
    expect(waiting.output()).toContain(
      `stopped waiting; run ${id} goes on\nhint: cancel it with \`optimus job cancel napping --run ${id}`,
    );
    const run = (await api(server.url, 'GET', `${P}/job/napping/run/${id}`)).json.run;
    expect(['queued', 'running']).toContain(run.status);
  });

  it.skipIf(!hasTmux)('draws a progress list in place on a terminal', async () => {
    const socket = `optimus-run-${process.pid}`;
    const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    const at = nextTime();
    const command = [process.execPath, BIN, 'job', 'run', 'napping', '--scheduled-at', at, '--wait']
      .concat(['--dir', project, '--host', server.url])
      .map((a) => `'${a}'`)
      .join(' ');
    tmux('new-session', '-d', '-s', 'run', '-x', '120', '-y', '20', `${command}; echo "exit=$?"; sleep 30`);
    try {
      const screen = () => tmux('capture-pane', '-p', '-t', 'run');
      await until('the progress list', () => /○ nap|● nap/.test(screen()));
      const id = Number(/run (\d+) of napping/.exec(screen())![1]);
      await api(server.url, 'POST', `${P}/job/napping/run/${id}/cancel`);
      await until('the end', () => screen().includes('exit='));
      const lines = screen().split('\n');
      // Redrawn in place: the headline and the node's line appear once each, in their final state.
      expect(lines.filter((l) => l.includes(`run ${id} of napping`))).toHaveLength(1);
      expect(lines.filter((l) => /\bnap\b/.test(l) && !l.includes('napping'))).toEqual([
        expect.stringMatching(/^ {2}■ nap\s+task\s+cancelled/),
      ]);
      expect(screen()).toContain('exit=1');
    } finally {
      tmux('kill-server');
    }
  });
});

describe('optimus job runs', () => {
  it('lists runs newest scheduled first with each node’s state', async () => {
    const id = await triggerViaApi('broken');
    const r = cli(['job', 'runs', 'broken', '--limit', '5']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^RUN\s+SCHEDULED AT\s+TRIGGER\s+STATUS\s+DURATION$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${id}\\s+2030-01-01T\\d\\d:00:00Z\\s+manual\\s+(queued|running|failed)`),
    );
    // The runner may already have run it: a failed run says why under its line, before its nodes.
    const nodes = lines.slice(2).filter((l) => !/^ {4}node boom failed: /.test(l));
    expect(nodes[0]).toMatch(/^ {4}. boom\s+task\s+\S/);
    expect(r.stdout).toContain(`next: optimus job logs broken --run ${id}`);
  });

  it('answers --json with the runs, and refuses a limit out of range', () => {
    const r = cli(['job', 'runs', 'broken', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, project: 'runs-e2e', job: 'broken' });
    expect(r.json().runs.length).toBeGreaterThan(0);
    const bad = cli(['job', 'runs', 'broken', '--limit', '0', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.json().error).toMatchObject({
      code: 'OPTION_INVALID',
      message: '--limit 0 is not a whole number from 1 to 1000',
    });
  });

  it('says when a job has no runs yet and how to start one', () => {
    const r = cli(['job', 'runs', 'hello']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^job hello has no runs yet\nnext: optimus job run hello/);
  });
});

describe('optimus job cancel', () => {
  it('cancels a run, then refuses to cancel it again', async () => {
    const id = await triggerViaApi('napping');
    const r = cli(['job', 'cancel', 'napping', '--run', String(id)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^run ${id} of napping \\(scheduled [^)]+\\): cancelled — by a request to the API\n`),
    );
    const again = cli(['job', 'cancel', 'napping', '--run', String(id), '--json']);
    expect(again.code).toBe(1);
    expect(again.json()).toMatchObject({
      ok: false,
      error: {
        code: 'RUN_FINISHED',
        message: expect.stringContaining(`run ${id} of job "napping" has already been cancelled`),
      },
    });
  });

  it('answers not found for a run of another job, and bad usage without --run', async () => {
    const id = await triggerViaApi('broken');
    const wrong = cli(['job', 'cancel', 'napping', '--run', String(id)]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`error: job "napping" has no run ${id}`);
    const none = cli(['job', 'cancel', 'napping']);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      'error: optimus job cancel needs --run <id>\nhint: find the run with `optimus job runs napping`\n',
    );
    const junk = cli(['job', 'cancel', 'napping', '--run', 'abc']);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toContain('--run abc is not a whole number');
  });
});

describe('optimus job logs', () => {
  it('reads the latest run by default and says when a job has no runs', async () => {
    const none = cli(['job', 'logs', 'hello']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      'error: job "hello" has no runs yet\nhint: start one with `optimus job run hello`\n',
    );
    // Latest = scheduled last: later than every other run of napping here.
    const r0 = await api(server.url, 'POST', `${P}/job/napping/run`, {
      scheduled_at: '2040-01-01T00:00:00Z',
    });
    const id = r0.json.run.id as number;
    const r = cli(['job', 'logs', 'napping', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, run: id });
    const unknownNode = cli(['job', 'logs', 'napping', '--node', 'nobody']);
    expect(unknownNode.code).toBe(1);
    expect(unknownNode.stderr).toContain(`error: run ${id} has no node "nobody"`);
    await api(server.url, 'POST', `${P}/job/napping/run/${id}/cancel`);
  });
});

// Needs `optimus serve` to start the embedded runner (wired by the lead): skipped until then.
describe('with the embedded runner executing runs', () => {
  it('waits for a run that succeeds, one line per node change, and exits 0', () => {
    const r = cli(['job', 'run', 'hello', '--wait']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^run \d+ of hello \(scheduled [^)]+\): (queued|running)\n/);
    expect(r.stdout).toMatch(/\d\d:\d\d:\d\d say succeeded after /);
    expect(r.stdout).toMatch(/\d\d:\d\d:\d\d announce succeeded after /);
    expect(r.stdout).toMatch(/run \d+ of hello \(scheduled [^)]+\): succeeded in \S+\n$/);
  });

  it('prints a run’s output with time and node, only one node’s with --node', () => {
    const r = cli(['job', 'logs', 'hello']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} say\s+│ hello from hello$/m);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} say\s+│ a note on stderr$/m);
    expect(r.stdout).toMatch(/announce\s+│ hello from hello$/m);
    const only = cli(['job', 'logs', 'hello', '--node', 'announce', '--json']).json();
    expect(only.lines.length).toBeGreaterThan(0);
    expect(only.lines.every((l: { node: string }) => l.node === 'announce')).toBe(true);
    expect(only.lines.map((l: { stream: string; line: string }) => `${l.stream} ${l.line}`)).toContain(
      'stderr a note on stderr',
    );
  });

  it('exits 1 with --wait when the run fails, naming the node’s error', () => {
    const r = cli(['job', 'run', 'broken', '--wait', '--json']);
    expect(r.code).toBe(1);
    const doc = r.json();
    expect(doc).toMatchObject({ ok: false, error: { code: 'RUN_FAILED' }, run: { status: 'failed' } });
    expect(doc.run.nodes[0]).toMatchObject({ name: 'boom', status: 'failed', exit_code: 3 });
    const logs = cli(['job', 'logs', 'broken', '--run', String(doc.run.id), '--follow']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/boom\s+│ about to fail$/m);
  });

  it('cancels a running node: the runner stops it and the run ends', async () => {
    const id = await triggerViaApi('napping');
    await until('the node to run', async () => {
      const run = (await api(server.url, 'GET', `${P}/job/napping/run/${id}`)).json.run;
      return run.nodes[0].status === 'running';
    });
    const r = cli(['job', 'cancel', 'napping', '--run', String(id)]);
    expect(r.stdout).toContain('stopping: nap');
    await until('the run to be over', async () => {
      return (await api(server.url, 'GET', `${P}/job/napping/run/${id}`)).json.run.over === true;
    });
  });
});
