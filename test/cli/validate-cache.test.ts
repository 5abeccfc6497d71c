/**
 * The validation cache only saves time: whatever it holds, `job validate` reports exactly what an
 * uncached run reports, and each kind of edit makes exactly the affected jobs checked again.
 */
import {
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openValidationCache, validationCacheFile } from '../../src/cli/validate-cache.js';
import { type ProjectReport, validateProject } from '../../src/services/validate-project.js';
import { runOptimus } from '../helpers/cli.js';
import { EXAMPLE, tempDir } from '../helpers/temp-project.js';

let root: string;
let project: string;
let cacheDir: string;
const savedEnv = process.env.OPTIMUS_CACHE_DIR;

beforeEach(() => {
  root = tempDir();
  project = join(root, 'project');
  cacheDir = join(root, 'cache');
  // The copy holds the example's installed plugins (.plugins) too, so a spec can be edited.
  cpSync(EXAMPLE, project, { recursive: true });
  process.env.OPTIMUS_CACHE_DIR = cacheDir;
});
afterEach(() => {
  if (savedEnv === undefined) delete process.env.OPTIMUS_CACHE_DIR;
  else process.env.OPTIMUS_CACHE_DIR = savedEnv;
});

/** What a user sees of a report: every job's name, namespace, file and problems, and the project's. */
const visible = (r: ProjectReport) => ({
  problems: r.problems,
  jobs: r.jobs.map((j) => ({ name: j.name, namespace: j.namespace, file: j.file, problems: j.problems })),
});

/**
 * One cached validation (as `job validate` runs it), checked against an uncached one. `now` is the
 * time file identities are judged at: files written by a test are too recent to trust at the real
 * time, so the cache reads their bytes; judged from later, their identities stand for them.
 */
function validate(only?: string[], now?: number) {
  const cache = openValidationCache(project);
  const cached = validateProject({
    dir: project,
    cache,
    ...(only ? { only } : {}),
    ...(now === undefined ? {} : { now }),
  });
  cache.save();
  const fresh = validateProject({ dir: project, ...(only ? { only } : {}) });
  expect(visible(cached)).toEqual(visible(fresh));
  return {
    report: cached,
    checked: cached.jobs.filter((j) => !j.cached).map((j) => j.name),
    fromCache: cached.jobs.filter((j) => j.cached).map((j) => j.name),
  };
}

/** A v1 job with a key v1 does not know: valid, with a warning. */
function addLegacyJob() {
  mkdirSync(join(project, 'finance/jobs/legacy'));
  writeFileSync(
    join(project, 'finance/jobs/legacy/job.yaml'),
    'version: 1\nname: legacy\nowner: o@acme.example\nschedule: {start_date: "2026-01-01"}\ntask: {name: python-script, config: {ENTRY: main.py}}\nunknown_field: 1\n',
  );
}

const edit = (path: string, change: (text: string) => string) => {
  const file = join(project, path);
  writeFileSync(file, change(readFileSync(file, 'utf8')));
};

describe('the validation cache', () => {
  it('checks every job once, then answers an unchanged project from the cache alone', () => {
    const first = validate();
    expect(first.fromCache).toEqual([]);
    expect(first.checked.length).toBeGreaterThanOrEqual(4);
    const second = validate();
    expect(second.checked).toEqual([]);
    expect(second.fromCache.sort()).toEqual([...first.checked].sort());
  });

  it('checks again only the job whose job.yaml changed', () => {
    validate();
    edit('finance/jobs/revenue-daily/job.yaml', (t) =>
      t.replace('TABLE: revenue_daily', 'TABLE: revenue_total'),
    );
    expect(validate().checked).toEqual(['revenue-daily']);
    expect(validate().checked).toEqual([]);
  });

  it('checks again every job under a this.yaml that changed, and no other', () => {
    const all = validate().report.jobs;
    edit('marketing/jobs/this.yaml', (t) => t.replace('team: marketing', 'team: growth'));
    const marketing = all.filter((j) => j.namespace === 'marketing').map((j) => j.name);
    expect(validate().checked.sort()).toEqual(marketing.sort());
  });

  it('checks again a job whose asset was edited, added or removed', () => {
    validate();
    const assets = join(project, 'finance/jobs/revenue-daily/assets');
    edit('finance/jobs/revenue-daily/assets/query.sql', (t) => `${t}\n-- edited\n`);
    expect(validate().checked).toEqual(['revenue-daily']);
    writeFileSync(join(assets, 'extra.sql'), 'select 1');
    expect(validate().checked).toEqual(['revenue-daily']);
    mkdirSync(join(assets, 'nested'));
    writeFileSync(join(assets, 'nested', 'more.sql'), 'select 2');
    expect(validate().checked).toEqual(['revenue-daily']);
    rmSync(join(assets, 'extra.sql'));
    expect(validate().checked).toEqual(['revenue-daily']);
    expect(validate().checked).toEqual([]);
  });

  it('checks every job again when a plugin spec or the hook rules change', () => {
    const names = validate().checked.sort();
    const spec = join(
      project,
      '.plugins',
      readdirSync(join(project, '.plugins')).find((f) => f.endsWith('.yaml'))!,
    );
    writeFileSync(spec, `${readFileSync(spec, 'utf8')}\n# edited\n`);
    expect(validate().checked.sort()).toEqual(names);
    edit('optimus.yaml', (t) => t.replace('"check-source >> audit-input"', '"audit-input >> check-source"'));
    expect(validate().checked.sort()).toEqual(names);
    expect(validate().checked).toEqual([]);
  });

  it('never caches a job with an error, and reports a cached job’s warnings as a check does', () => {
    addLegacyJob();
    edit('finance/jobs/revenue-daily/job.yaml', (t) =>
      t.replace('depends_on: notify-team', 'depends_on: [ghost]'),
    );
    const first = validate();
    const legacy = first.report.jobs.find((j) => j.name === 'legacy')!;
    expect(legacy.problems.map((p) => p.severity)).toContain('warning');
    expect(legacy.problems.map((p) => p.severity)).not.toContain('error');
    const second = validate();
    expect(second.fromCache).toContain('legacy');
    expect(second.checked).toEqual(['revenue-daily']);
  });

  it('reports a duplicate job name the same way when both jobs come from the cache', () => {
    validate();
    cpSync(join(project, 'finance/jobs/ledger-export'), join(project, 'marketing/jobs/ledger-copy'), {
      recursive: true,
    });
    const first = validate();
    const dup = first.report.jobs.filter((j) => j.problems.some((p) => p.code === 'JOB_DUPLICATE'));
    expect(dup).toHaveLength(1);
    const again = validate();
    expect(again.fromCache).toContain('ledger-export');
  });

  it('ignores a corrupt cache file, or one written by another CLI version, and replaces it', () => {
    validate();
    const file = validationCacheFile(project);
    writeFileSync(file, '{"format": 1, "entries": ');
    expect(validate().fromCache).toEqual([]);
    expect(validate().checked).toEqual([]);
    const foreign = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...foreign, cli: '0.0.0-other' }));
    expect(validate().fromCache).toEqual([]);
    const tampered = JSON.parse(readFileSync(file, 'utf8'));
    for (const e of Object.values(tampered.entries) as unknown[][]) e[4] = [{ severity: 'error' }];
    writeFileSync(file, JSON.stringify(tampered));
    expect(validate().fromCache).toEqual([]);
  });

  it('still validates when the cache folder cannot be written', () => {
    writeFileSync(cacheDir, 'a file where the cache folder would go');
    expect(validate().fromCache).toEqual([]);
    expect(validate().fromCache).toEqual([]);
  });
});

describe('the validation cache, by file identities', () => {
  /** Judged from a minute on, every file written so far is old enough to trust. */
  const later = () => Date.now() + 60_000;
  const cacheFile = () => JSON.parse(readFileSync(validationCacheFile(project), 'utf8'));

  it('keys every job by its files’ identities once they are old enough, and remembers folders', () => {
    validate(undefined, Date.now());
    // Written just now: too recent to trust at the real time, so nothing is keyed by identity yet.
    expect(Object.values(cacheFile().entries).every((e) => (e as string[])[3] === '')).toBe(true);
    expect(validate(undefined, later()).checked).toEqual([]);
    const file = cacheFile();
    expect(Object.values(file.entries).every((e) => /^[0-9a-f]{64}$/.test((e as string[])[3]!))).toBe(true);
    expect(file.listings['finance/jobs/revenue-daily']).toMatch(/\|.*fjob\.yaml/);
    expect(validate(undefined, later()).checked).toEqual([]);
  });

  it('checks again a job whose file was rewritten with the same size and its old modification time', () => {
    validate(undefined, later());
    validate(undefined, later());
    const file = join(project, 'finance/jobs/revenue-daily/job.yaml');
    const before = statSync(file);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('TABLE: revenue_daily', 'TABLE: revenue_dailx'));
    utimesSync(file, before.atime, before.mtime);
    expect(statSync(file).size).toBe(before.size);
    expect(validate(undefined, later()).checked).toEqual(['revenue-daily']);
  });

  it('checks again a job whose asset folder gained, lost or changed a file', () => {
    validate(undefined, later());
    validate(undefined, later());
    const assets = join(project, 'finance/jobs/revenue-daily/assets');
    writeFileSync(join(assets, 'extra.sql'), 'select 1');
    expect(validate(undefined, later()).checked).toEqual(['revenue-daily']);
    edit('finance/jobs/revenue-daily/assets/extra.sql', () => 'select 2');
    expect(validate(undefined, later()).checked).toEqual(['revenue-daily']);
    rmSync(join(assets, 'extra.sql'));
    expect(validate(undefined, later()).checked).toEqual(['revenue-daily']);
    expect(validate(undefined, later()).checked).toEqual([]);
  });

  it('finds a new job, a new this.yaml and a deleted job in folders it remembers', () => {
    validate(undefined, later());
    validate(undefined, later());
    addLegacyJob();
    expect(validate(undefined, later()).checked).toEqual(['legacy']);
    writeFileSync(join(project, 'finance/jobs/legacy/this.yaml'), 'labels: {tier: bronze}\n');
    expect(validate(undefined, later()).checked).toEqual(['legacy']);
    rmSync(join(project, 'finance/jobs/legacy'), { recursive: true });
    const after = validate(undefined, later());
    expect(after.checked).toEqual([]);
    expect(after.fromCache).not.toContain('legacy');
  });

  it('finds a job by its bytes when only its identity changed (a fresh checkout), then by identity', () => {
    validate(undefined, later());
    const file = join(project, 'finance/jobs/revenue-daily/job.yaml');
    const text = readFileSync(file);
    rmSync(file);
    writeFileSync(file, text);
    const again = validate(undefined, later());
    expect(again.checked).toEqual([]);
    expect(again.fromCache).toContain('revenue-daily');
  });

  it('reads a folder whose remembered entries were tampered with, instead of following them', () => {
    validate(undefined, later());
    const file = cacheFile();
    const dir = 'finance/jobs/revenue-daily';
    const [id] = file.listings[dir].split('|');
    file.listings[dir] = `${id}|d..`;
    writeFileSync(validationCacheFile(project), JSON.stringify(file));
    const again = validate(undefined, later());
    expect(again.checked).toEqual([]);
    expect(again.fromCache).toContain('revenue-daily');
  });
});

describe('`optimus job validate` with the cache', () => {
  const cli = (args: string[]) =>
    runOptimus(['job', 'validate', '--dir', project, ...args], {
      cwd: root,
      env: { OPTIMUS_CACHE_DIR: cacheDir },
    });
  const same = (args: string[]) => {
    const uncached = cli([...args, '--no-cache']);
    const cold = cli(args);
    const warm = cli(args);
    for (const r of [cold, warm]) {
      expect(r.stdout).toBe(uncached.stdout);
      expect(r.stderr).toBe(uncached.stderr);
      expect(r.code).toBe(uncached.code);
    }
    return uncached;
  };

  it('prints the same problems, summary, JSON and exit code as an uncached run', () => {
    expect(same(['--json']).json().ok).toBe(true);
    expect(readdirSync(join(cacheDir, 'validation'))).toHaveLength(1);

    edit('finance/jobs/revenue-daily/job.yaml', (t) =>
      t.replace('depends_on: notify-team', 'depends_on: [ghost]'),
    );
    addLegacyJob();
    const text = same([]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('depends on "ghost"');
    expect(text.stdout).toMatch(/legacy[\s\S]*warning/);
    expect(same(['--json']).json().summary.invalid_jobs).toBe(1);
    expect(
      same(['legacy', '--json'])
        .json()
        .jobs.map((j: { name: string }) => j.name),
    ).toEqual(['legacy']);
    // Eleven CLI runs: on a loaded machine they outlast the default timeout.
  }, 120_000);

  it('--no-cache neither reads nor writes the cache', () => {
    expect(cli(['--no-cache']).code).toBe(0);
    expect(() => readdirSync(join(cacheDir, 'validation'))).toThrow();
  });
});
