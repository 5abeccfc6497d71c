/** `optimus scheduler compile`: the example project's DAGs, written incrementally, as a user runs it. */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runOptimus } from '../helpers/cli.js';
import { EXAMPLE, EXAMPLE_PLUGINS, tempDir } from '../helpers/temp-project.js';

function copyExample(storagePath?: string): string {
  const dir = tempDir();
  cpSync(EXAMPLE, dir, { recursive: true });
  const config = join(dir, 'optimus.yaml');
  const text = readFileSync(config, 'utf8');
  const line = /^( +)STORAGE_PATH: .*$/m;
  writeFileSync(
    config,
    storagePath === undefined ? text.replace(line, '') : text.replace(line, `$1STORAGE_PATH: ${storagePath}`),
  );
  return dir;
}

const compile = (dir: string, ...args: string[]) =>
  runOptimus(['scheduler', 'compile', '--dir', dir, '--plugins', EXAMPLE_PLUGINS, ...args]);

const dagFiles = (out: string) =>
  readdirSync(join(out, 'dags'), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(out.length + 1))
    .sort();

describe('optimus scheduler compile', () => {
  it('writes one DAG per job and the helper module, then only what changed', () => {
    const dir = copyExample();
    const out = join(dir, 'airflow');
    const first = compile(dir, '--out', out, '--json');
    expect(first.code).toBe(0);
    const answer = first.json();
    expect(answer).toMatchObject({
      ok: true,
      project: 'acme-analytics',
      summary: { jobs: 5, written: 6, unchanged: 0, deleted: 0, failed: 0 },
      deleted: [],
      failures: [],
    });
    expect(answer.written).toEqual([
      'dags/__lib.py',
      'dags/finance/ledger-export.py',
      'dags/finance/marketing-roi.py',
      'dags/finance/revenue-daily.py',
      'dags/marketing/attribution.py',
      'dags/marketing/campaign-performance.py',
    ]);
    expect(dagFiles(out)).toEqual(['dags/.optimus-manifest.json', ...answer.written]);
    // The static dependency on revenue-daily becomes a sensor for it.
    expect(readFileSync(join(out, 'dags/finance/ledger-export.py'), 'utf8')).toContain('revenue-daily');
    expect(readFileSync(join(out, 'dags/marketing/campaign-performance.py'), 'utf8')).not.toContain(
      '{{ .secret',
    );

    const again = compile(dir, '--out', out, '--json').json();
    expect(again.summary).toMatchObject({ written: 0, unchanged: 6, deleted: 0 });

    // One job changes, one is gone, and a file someone else put there stays.
    writeFileSync(join(out, 'dags/finance/by-hand.py'), '# not ours\n');
    const job = join(dir, 'finance/jobs/revenue-daily/job.yaml');
    writeFileSync(job, readFileSync(job, 'utf8').replace(/^description: .*$/m, 'description: "new words"'));
    rmSync(join(dir, 'marketing/jobs/attribution'), { recursive: true });
    // campaign-performance names attribution as a static dependency: drop it too.
    const cp = join(dir, 'marketing/jobs/campaign-performance/job.yaml');
    writeFileSync(cp, readFileSync(cp, 'utf8').replace(/^dependencies:\n(?: +- .*\n(?: {4}.*\n)*)+/m, ''));
    const third = compile(dir, '--out', out);
    expect(third.code).toBe(0);
    expect(third.stdout).toContain('+ dags/finance/revenue-daily.py');
    expect(third.stdout).toContain('- dags/marketing/attribution.py');
    expect(third.stdout).toMatch(/^ok: 4 jobs compiled .*: 2 written, 3 unchanged, 1 deleted$/m);
    expect(existsSync(join(out, 'dags/finance/by-hand.py'))).toBe(true);
    expect(existsSync(join(out, 'dags/marketing/attribution.py'))).toBe(false);
    expect(readFileSync(join(out, 'dags/finance/revenue-daily.py'), 'utf8')).toContain('new words');
  });

  it("writes to the project's STORAGE_PATH when it is a file:// path", () => {
    const target = tempDir();
    const dir = copyExample(pathToFileURL(target).href);
    const r = compile(dir, '--json');
    expect(r.code).toBe(0);
    expect(r.json().summary.written).toBe(6);
    expect(existsSync(join(target, 'dags/finance/revenue-daily.py'))).toBe(true);
  });

  it('asks for --out when the project has no folder to write to', () => {
    for (const storage of [undefined, 's3://acme-dags/optimus']) {
      const r = compile(copyExample(storage), '--json');
      expect(r.code).toBe(2);
      expect(r.json()).toMatchObject({
        ok: false,
        error: { code: 'SCHEDULER_OUT_REQUIRED', hint: expect.stringContaining('--out') },
      });
    }
  });

  it('refuses an invalid project with its problems and writes nothing', () => {
    const dir = copyExample();
    const job = join(dir, 'finance/jobs/revenue-daily/job.yaml');
    writeFileSync(job, readFileSync(job, 'utf8').replace(/^owner: .*$/m, ''));
    const out = join(dir, 'airflow');
    const json = compile(dir, '--out', out, '--json');
    expect(json.code).toBe(1);
    expect(json.json()).toMatchObject({
      ok: false,
      error: { code: 'PROJECT_INVALID' },
      jobs: [{ name: 'revenue-daily', namespace: 'finance' }],
    });
    const human = compile(dir, '--out', out);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain('revenue-daily');
    expect(human.stderr).toContain('no DAG was written');
    expect(existsSync(out)).toBe(false);
  });
});
