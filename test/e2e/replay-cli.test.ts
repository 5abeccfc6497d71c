/**
 * `optimus replay | replay status | replay list | replay cancel` against a real `optimus serve`,
 * on a small project of its own: `daily` (prints and ends), `after` (depends on `daily`) and `slow`
 * (sleeps for minutes, so its replay stays running until it is cancelled). Their schedules ended in
 * January 2026, the range the tests replay.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runOptimus } from '../helpers/cli.js';
import { type ServeProcess, startServe } from '../helpers/serve-process.js';

const plugin = (name: string, script: string) => `version: 3
name: ${name}
description: e2e plugin ${name}
plugin_versions:
  default: {image: docker.io/acme/${name}, tag: "1.0.0", entrypoint: {script: ${JSON.stringify(script)}}}
`;

const job = (name: string, task: string, extra = '') => `version: 3
name: ${name}
owner: e2e@acme.example
schedule: {start_date: "2026-01-01", end_date: "2026-01-10", interval: "0 3 * * *"}
task:
  name: ${task}
${extra}`;

let root: string;
let project: string;
let server: ServeProcess;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'optimus-replay-'));
  const plugins = join(root, 'plugins');
  mkdirSync(plugins);
  writeFileSync(join(plugins, 'optimus-plugin-say.yaml'), plugin('say', 'echo "replaying $DSTART"'));
  writeFileSync(join(plugins, 'optimus-plugin-nap.yaml'), plugin('nap', 'sleep 300'));
  project = join(root, 'project');
  const files: Record<string, string> = {
    'optimus.yaml': `version: 1
project: {name: replay-e2e}
namespaces:
  - {name: team, job: {path: team/jobs}}
`,
    'team/jobs/daily/job.yaml': job('daily', 'say'),
    'team/jobs/after/job.yaml': job('after', 'say', 'dependencies:\n  - job: daily\n'),
    'team/jobs/slow/job.yaml': job('slow', 'nap'),
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
    const r = cli(args);
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
    env: { OPTIMUS_CACHE_DIR: join(root, 'cache'), NO_COLOR: '1' },
  });
}

interface ReplayJson {
  id: number;
  status: string;
  note: string | null;
  jobs: { job: string; windows: number }[];
  items: { job: string; scheduled_at: string; state: string; run_id: number | null }[];
}

const replayOf = (r: CliResult): ReplayJson => {
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return (r.json() as { replay: ReplayJson }).replay;
};

/** The replay once it has ended: the server's runner advances it as its runs succeed. */
async function ended(id: number): Promise<ReplayJson> {
  for (let i = 0; i < 600; i++) {
    const replay = replayOf(cli(['replay', 'status', String(id), '--json']));
    if (replay.status !== 'running') return replay;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`replay ${id} still running`);
}

// A dozen CLI processes per test: on a loaded two-core machine each can take seconds.
describe('optimus replay', { timeout: 180_000 }, () => {
  it('prints the plan and the id, then runs the windows one after the other and shows each', async () => {
    const r = cli(['replay', 'daily', '--from', '2026-01-02', '--to', '2026-01-04']);
    expect(r.code, r.stderr).toBe(0);
    const id = /^replay (\d+) of daily: 3 runs over 1 job, in this order$/m.exec(r.stdout)?.[1];
    expect(id, r.stdout).toBeDefined();
    expect(r.stdout).toMatch(/^ {3}1\. daily {2}team {2}3 windows$/m);
    expect(r.stdout).toContain(`next: optimus replay status ${id} --watch`);

    const status = replayOf(cli(['replay', 'status', id!, '--json']));
    expect(status.items.map((i) => i.scheduled_at)).toEqual([
      '2026-01-02T03:00:00.000Z',
      '2026-01-03T03:00:00.000Z',
      '2026-01-04T03:00:00.000Z',
    ]);
    // The first window's run exists at once; each next one is created when the one before succeeded.
    expect(status.items[0]!.run_id).toEqual(expect.any(Number));

    const done = await ended(Number(id));
    expect(done.status).toBe('succeeded');
    expect(done.items.map((i) => i.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const runIds = done.items.map((i) => i.run_id!);
    expect([...runIds].sort((a, b) => a - b)).toEqual(runIds);

    const human = cli(['replay', 'status', id!]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      new RegExp(
        `^replay ${id} of daily \\(2026-01-02T00:00Z → 2026-01-04 \\(end of day\\), sequential\\): succeeded`,
      ),
    );
    expect(human.stdout).toMatch(/^ {2}daily {2}. . . {2}3\/3$/m);
  });

  it('replays the downstream jobs after the job, in dependency order', async () => {
    const replay = replayOf(
      cli(['replay', 'daily', '--from', '2026-01-05', '--to', '2026-01-06', '--downstream', '--json']),
    );
    expect(replay.jobs).toEqual([
      expect.objectContaining({ job: 'daily', windows: 2 }),
      expect.objectContaining({ job: 'after', windows: 2 }),
    ]);
    const done = await ended(replay.id);
    expect(done.status).toBe('succeeded');
    // Each window of `after` was created only once `daily`'s run of that window had succeeded.
    const run = (job: string, at: string) =>
      done.items.find((i) => i.job === job && i.scheduled_at === at)!.run_id!;
    for (const at of ['2026-01-05T03:00:00.000Z', '2026-01-06T03:00:00.000Z'])
      expect(run('after', at)).toBeGreaterThan(run('daily', at));
  });

  it('refuses a replay over a range already being replayed, naming the running replay, until it is cancelled', () => {
    const first = replayOf(cli(['replay', 'slow', '--from', '2026-01-02', '--to', '2026-01-03', '--json']));
    const refused = cli(['replay', 'slow', '--from', '2026-01-03', '--to', '2026-01-05']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `error: replay ${first.id} of job "slow" is already running over an overlapping range (2026-01-02T00:00:00.000Z to 2026-01-03T23:59:59.999Z)\n` +
        `hint: follow it with \`optimus replay status ${first.id}\`, or cancel it with \`optimus replay cancel ${first.id}\`\n`,
    );
    const asJson = cli(['replay', 'slow', '--from', '2026-01-01', '--to', '2026-01-02', '--json']);
    expect(asJson.code).toBe(1);
    expect(asJson.json()).toMatchObject({ ok: false, error: { code: 'REPLAY_RUNNING' } });

    const cancel = cli(['replay', 'cancel', String(first.id)]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(
      new RegExp(
        `^replay ${first.id} of slow .*: cancelled 0/2 succeeded — cancelled by a request to the API`,
      ),
    );
    const after = replayOf(cli(['replay', 'status', String(first.id), '--json']));
    expect(after.status).toBe('cancelled');
    expect(after.items.map((i) => i.state)).toEqual(['cancelled', 'skipped']);

    const again = cli(['replay', 'cancel', String(first.id)]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: replay \d+ has already been cancelled/);

    const second = replayOf(cli(['replay', 'slow', '--from', '2026-01-03', '--to', '2026-01-05', '--json']));
    expect(second.id).not.toBe(first.id);
    cli(['replay', 'cancel', String(second.id)]);

    const list = cli(['replay', 'list', '--job', 'slow', '--json']);
    expect(list.code).toBe(0);
    expect(
      (list.json() as { replays: { id: number; status: string }[] }).replays.map((r) => [r.id, r.status]),
    ).toEqual([
      [second.id, 'cancelled'],
      [first.id, 'cancelled'],
    ]);
    const human = cli(['replay', 'list']);
    expect(human.stdout).toMatch(/^REPLAY {2}JOB +RANGE +STATUS +SUCCEEDED/);
    expect(human.stdout).toContain(`next: optimus replay status ${second.id}`);
  });

  it('says what to fix when the range or the job is wrong', () => {
    const bad = cli(['replay', 'daily', '--from', 'yesterday', '--to', '2026-01-02']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^error: --from "yesterday" is not a date or a time\nhint: write a date \(2026-03-01/,
    );
    const missing = cli(['replay', 'daily', '--from', '2026-01-02']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('error: optimus replay needs --to <date>');
    const backwards = cli(['replay', 'daily', '--from', '2026-01-05', '--to', '2026-01-02']);
    expect(backwards.code).toBe(2);
    const unknown = cli(['replay', 'nosuch', '--from', '2026-01-02', '--to', '2026-01-03']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: job "nosuch" is not deployed in project "replay-e2e"/);
    const empty = cli(['replay', 'daily', '--from', '2027-01-01', '--to', '2027-01-31']);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain(
      'has no scheduled time between 2027-01-01T00:00:00.000Z and 2027-01-31T23:59:59.999Z',
    );
    expect(empty.stderr).toContain(
      'hint: its schedule: interval 0 3 * * *, start_date 2026-01-01, end_date 2026-01-10',
    );
    const id = cli(['replay', 'status', 'seven']);
    expect(id.code).toBe(2);
    const none = cli(['replay', 'status', '999999']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('error: project "replay-e2e" has no replay 999999');
  });
});
