/**
 * `optimus job retry` against a real `optimus serve` whose embedded runner executes the runs: a job
 * whose task fails the first time and succeeds after, with a post hook that only runs once the
 * task succeeded.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runOptimus } from '../helpers/cli.js';
import { api, type ServeProcess, startServe } from '../helpers/serve-process.js';

let root: string;
let project: string;
let server: ServeProcess;
const P = '/api/v1beta1/project/retry-e2e';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'optimus-job-retry-'));
  const plugins = join(root, 'plugins');
  mkdirSync(plugins);
  const mark = join(root, 'flip.mark');
  const script = `if [ -e '${mark}' ]; then echo "second try"; else touch '${mark}'; echo "first try"; exit 3; fi`;
  writeFileSync(
    join(plugins, 'optimus-plugin-flip.yaml'),
    `version: 3\nname: flip\ndescription: fails once\nplugin_versions:\n  default: {image: docker.io/acme/flip, tag: "1.0.0", entrypoint: {script: ${JSON.stringify(script)}}}\n`,
  );
  writeFileSync(
    join(plugins, 'optimus-plugin-say.yaml'),
    `version: 3\nname: say\ndescription: says\nplugin_versions:\n  default: {image: docker.io/acme/say, tag: "1.0.0", entrypoint: {script: "echo said"}}\n`,
  );
  project = join(root, 'project');
  const files: Record<string, string> = {
    'optimus.yaml':
      'version: 1\nproject: {name: retry-e2e}\nnamespaces:\n  - {name: team, job: {path: team/jobs}}\n',
    'team/jobs/flaky/job.yaml': `version: 3
name: flaky
owner: e2e@acme.example
schedule: {start_date: "2099-01-01", interval: "0 3 * * *"}
task:
  name: flip
  window: {size: 24h}
hooks:
  - {name: announce, type: say, stage: post}
`,
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

async function until(what: string, check: () => Promise<boolean>) {
  const end = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('optimus job retry', () => {
  it('runs the failed task again, keeps counting attempts, and refuses what cannot be retried', async () => {
    const failed = cli(['job', 'run', 'flaky', '--wait', '--json']);
    expect(failed.code).toBe(1);
    const id = failed.json().run.id as number;

    const unknown = cli(['job', 'retry', 'flaky', String(id), '--node', 'flip', '--node', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('run ' + id + ' has no node "nope"');
    expect(unknown.stderr).toContain('flip');
    const usage = cli(['job', 'retry', 'flaky', 'latest']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('run id "latest"');

    const retried = cli(['job', 'retry', 'flaky', String(id), '--node', 'flip']);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toMatch(new RegExp(`^run ${id} of flaky .*: (running|succeeded)`));
    expect(retried.stdout).toContain(`next: optimus job logs flaky --run ${id} --follow`);

    let run: { status: string; nodes: { name: string; attempts: { attempt: number; status: string }[] }[] } =
      { status: '', nodes: [] };
    await until('the retried run to end', async () => {
      run = (await api(server.url, 'GET', `${P}/job/flaky/run/${id}`)).json.run;
      return run.status === 'succeeded';
    });
    expect(run.nodes.find((n) => n.name === 'flip')!.attempts.map((a) => `${a.attempt} ${a.status}`)).toEqual(
      ['1 failed', '2 succeeded'],
    );
    const logs = cli(['job', 'logs', 'flaky', '--run', String(id)]);
    expect(logs.stdout).toMatch(/flip#2\s+│ second try$/m);
    expect(logs.stdout).toMatch(/announce\s+│ said$/m);
    // A retried node gets the job's attempts again: counted from the retry, the total beside.
    const runs = cli(['job', 'runs', 'flaky', '--limit', '1']);
    expect(runs.stdout).toMatch(/flip\s+task\s+succeeded\s+attempt 1\/1 \(2 in all\)/);

    const again = cli(['job', 'retry', 'flaky', String(id), '--json']);
    expect(again.code).toBe(1);
    expect(again.json()).toMatchObject({ ok: false, error: { code: 'RUN_NOTHING_TO_RETRY' } });
  }, 120_000);
});
