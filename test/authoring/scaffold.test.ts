/**
 * `optimus plugin init` (authoring/scaffold.ts): for each kind, with and without the dependency
 * resolver, the project it writes is one the other authoring commands accept as it is: the spec
 * validates with no problem at all (binary: built and asked over the protocol), the sample job
 * validates against it, tests/sample.yaml holds when rendered and inferred with the server's own
 * code (renderLocal, inferLocal), and the entrypoint script does its small job on that input.
 * Refusals write nothing.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  buildPluginProject,
  defaultScheduledAt,
  inferLocal,
  loadProjectSpec,
  loadSampleJob,
  locatePluginProject,
  type PluginProject,
  renderLocal,
} from '../../src/authoring/project.js';
import { scaffoldFiles, writeScaffold } from '../../src/authoring/scaffold.js';
import type { Plugin } from '../../src/core/plugin.js';
import { checkLoadedJob } from '../../src/services/validate-project.js';
import { runOptimus } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-project.js';

const REPO = join(import.meta.dirname, '../..');
const COMMON = [
  'Dockerfile',
  'sample/job.yaml',
  'sample/assets/query.sql',
  'tests/sample.yaml',
  'README.md',
  '.gitignore',
];
const FILES = {
  yaml: ['plugin.yaml', ...COMMON],
  binary: ['package.json', 'tsconfig.json', 'src/main.ts', ...COMMON],
};

type Kind = 'yaml' | 'binary';
const VARIANTS: { kind: Kind; resolver: boolean; label: string }[] = [
  { kind: 'yaml', resolver: false, label: 'yaml' },
  { kind: 'yaml', resolver: true, label: 'yaml --mod dependency-resolver' },
  { kind: 'binary', resolver: false, label: 'binary' },
  { kind: 'binary', resolver: true, label: 'binary --mod dependency-resolver' },
];

function init(cwd: string, name: string, kind: Kind, resolver: boolean, extra: string[] = []) {
  return runOptimus(
    [
      'plugin',
      'init',
      name,
      '--kind',
      kind,
      ...(resolver ? ['--mod', 'dependency-resolver'] : []),
      ...extra,
      '--json',
    ],
    { cwd },
  );
}

/** The project as every authoring command reads it; a binary one built and handshaken. */
async function loadScaffold(dir: string): Promise<{ project: PluginProject; plugin: Plugin }> {
  const project = locatePluginProject(dir);
  await buildPluginProject(project);
  const spec = await loadProjectSpec(project);
  if ('error' in (spec.handshake ?? {})) throw (spec.handshake as { error: Error }).error;
  // Not an error, not even a warning: the scaffold is what authors copy from.
  expect(spec.problems).toEqual([]);
  expect(spec.plugin).toBeDefined();
  return { project, plugin: spec.plugin! };
}

interface Case {
  name: string;
  given?: {
    config?: Record<string, string>;
    scheduled_at?: string;
    secrets?: Record<string, string>;
  };
  expect: {
    files?: Record<string, string>;
    envs?: Record<string, string>;
    destination?: string;
    dependencies?: string[];
  };
}

/** Each case of tests/sample.yaml, rendered and inferred as the contract describes, compared exactly. */
async function checkSampleTests(project: PluginProject, plugin: Plugin): Promise<Case[]> {
  const { cases } = parseYaml(readFileSync(join(project.dir, 'tests/sample.yaml'), 'utf8')) as {
    cases: Case[];
  };
  expect(cases.length).toBeGreaterThan(0);
  const loaded = loadSampleJob(project);
  for (const c of cases) {
    const job = structuredClone(loaded.spec!);
    Object.assign(job.task.config, c.given?.config ?? {});
    const secrets = c.given?.secrets ?? { API_TOKEN: '<secret API_TOKEN>' };
    const rendered = renderLocal({
      plugin,
      job,
      assets: job.assets,
      instance: { type: 'task', name: plugin.name },
      scheduledAt: c.given?.scheduled_at ? new Date(c.given.scheduled_at) : defaultScheduledAt(job),
      secrets,
    });
    const envs = { ...rendered.envs, ...rendered.secrets };
    if (c.expect.files)
      for (const [f, text] of Object.entries(c.expect.files))
        expect(rendered.files[f], `${c.name}: ${f}`).toBe(text);
    if (c.expect.envs)
      for (const [k, v] of Object.entries(c.expect.envs)) expect(envs[k], `${c.name}: ${k}`).toBe(v);
    if (c.expect.destination !== undefined || c.expect.dependencies !== undefined) {
      const inferred = await inferLocal({ project, plugin, job, assets: job.assets, secrets });
      expect(inferred, c.name).toMatchObject({ ok: true });
      const ok = inferred as { destination: string | null; dependencies: string[]; warnings: string[] };
      expect(ok.warnings).toEqual([]);
      if (c.expect.destination !== undefined) expect(ok.destination).toBe(c.expect.destination);
      if (c.expect.dependencies !== undefined) expect(ok.dependencies).toEqual(c.expect.dependencies);
    }
  }
  return cases;
}

/** Runs the entrypoint script as the process executor does: `sh -c script` with the input in $JOB_DIR/in. */
function runEntrypoint(
  plugin: Plugin,
  input: { envs: Record<string, string>; files: Record<string, string> },
) {
  const jobDir = tempDir();
  for (const [name, text] of Object.entries(input.files)) {
    mkdirSync(dirname(join(jobDir, 'in', name)), { recursive: true });
    writeFileSync(join(jobDir, 'in', name), text);
  }
  mkdirSync(join(jobDir, 'in'), { recursive: true });
  const ep = plugin.versions.default!.entrypoint!;
  return spawnSync(ep.shell, ['-c', ep.script], {
    cwd: jobDir,
    env: { PATH: process.env.PATH, ...input.envs, JOB_DIR: jobDir },
    encoding: 'utf8',
  });
}

describe.each(VARIANTS)('optimus plugin init --kind $label', ({ kind, resolver }) => {
  it('writes a project whose spec, sample job and tests/sample.yaml hold as they are', async () => {
    const cwd = tempDir();
    const r = init(cwd, 'orders-load', kind, resolver);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.json()).toEqual({
      ok: true,
      dir: 'orders-load',
      name: 'orders-load',
      kind,
      mods: resolver ? ['dependency-resolver'] : [],
      files: FILES[kind],
      overwritten: [],
      warnings: [],
    });
    // Exactly the project: no temp folder left beside it or inside it.
    expect(readdirSync(cwd)).toEqual(['orders-load']);
    const dir = join(cwd, 'orders-load');
    const onDisk = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
      .sort();
    expect(onDisk).toEqual([...FILES[kind]].sort());

    const { project, plugin } = await loadScaffold(dir);
    expect(project.kind).toBe(kind);
    expect(plugin.name).toBe('orders-load');
    expect(plugin.mods).toEqual(kind === 'binary' && resolver ? ['dependency_resolver'] : []);
    expect(Boolean(plugin.destinationUrnTemplate)).toBe(kind === 'yaml' && resolver);
    expect(plugin.configs.find((c) => c.name === 'API_TOKEN')).toMatchObject({
      required: true,
      secret: true,
    });
    expect(plugin.versions.default).toMatchObject({ image: 'docker.io/your-org/orders-load', tag: '0.1.0' });
    if (kind === 'binary') expect(statSync(project.executable!).mode & 0o777).toBe(0o755);
    // The image the Dockerfile's instructions build is the one the spec runs.
    const image = `${plugin.versions.default!.image}:${plugin.versions.default!.tag}`;
    expect(readFileSync(join(dir, 'Dockerfile'), 'utf8')).toContain(`docker build -t ${image} .`);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    for (const step of [
      'optimus plugin test .',
      'optimus plugin run . --secret API_TOKEN=',
      `docker build -t ${image} .`,
      'optimus plugin pack . --url ',
      'optimus plugin install',
    ])
      expect(readme).toContain(step);
    expect(readme.includes('optimus plugin build .')).toBe(kind === 'binary');
    expect(readFileSync(join(dir, '.gitignore'), 'utf8').split('\n')).toContain('dist/');

    const loaded = loadSampleJob(project);
    const report = checkLoadedJob(loaded, 'local', { plugins: new Map([[plugin.name, plugin]]), rules: [] });
    expect(report.problems).toEqual([]);
    expect(report.spec?.task.config.API_TOKEN).toBe('{{ .secret.API_TOKEN }}');

    const cases = await checkSampleTests(project, plugin);
    // The first case pins the rendered query and the window; with the resolver, the lineage too.
    expect(Object.keys(cases[0]!.expect.files ?? {})).toEqual(['query.sql']);
    expect(cases[0]!.expect.envs).toMatchObject({
      DSTART: '2026-03-01T00:00:00Z',
      DEND: '2026-03-02T00:00:00Z',
    });
    expect(cases.some((c) => c.expect.destination && c.expect.dependencies?.length)).toBe(resolver);
  });
});

describe('the entrypoint script', () => {
  for (const resolver of [false, true]) {
    it(`reports what it would do with the rendered input and never prints the secret${resolver ? ' (resolver)' : ''}`, async () => {
      const dir = tempDir();
      writeScaffold(
        join(dir, 'p'),
        scaffoldFiles({ name: 'p', kind: 'yaml', mods: resolver ? ['dependency-resolver'] : [] }),
      );
      const { project, plugin } = await loadScaffold(join(dir, 'p'));
      const job = loadSampleJob(project).spec!;
      const secret = 'tok-3f9a-secret-value';
      const input = renderLocal({
        plugin,
        job,
        assets: job.assets,
        instance: { type: 'task', name: 'p' },
        scheduledAt: new Date('2026-03-02T02:00:00Z'),
        secrets: { API_TOKEN: secret },
      });
      const envs = { ...input.envs, ...input.secrets };
      const ok = runEntrypoint(plugin, { envs, files: input.files });
      expect(ok.stderr).toBe('');
      expect(ok.status).toBe(0);
      const where = resolver ? 'acme-dw:sales.orders_daily' : 'orders_daily';
      expect(ok.stdout).toContain(
        `APPEND the result of query.sql into ${where} for the window 2026-03-01T00:00:00Z .. 2026-03-02T00:00:00Z`,
      );
      const queryLines = input.files['query.sql']!.split('\n');
      expect(ok.stdout).toContain(`in batches of 500 rows; query.sql has ${queryLines.length} lines:`);
      for (const l of queryLines) expect(ok.stdout).toContain(`  | ${l}\n`);
      expect(ok.stdout).toContain('API_TOKEN is set (not printed)');
      expect(ok.stdout + ok.stderr).not.toContain(secret);

      // A required config missing: a clear message and a non-zero exit, before any work.
      const { TABLE: _table, ...noTable } = envs;
      const missing = runEntrypoint(plugin, { envs: noTable, files: input.files });
      expect(missing.status).toBe(2);
      expect(missing.stderr).toBe('config TABLE is not set: give it under task.config of the job\n');
      expect(missing.stdout).toBe('');
      const emptySecret = runEntrypoint(plugin, { envs: { ...envs, API_TOKEN: '' }, files: input.files });
      expect(emptySecret.status).toBe(2);
      expect(emptySecret.stderr).toContain('config API_TOKEN is not set');

      const noQuery = runEntrypoint(plugin, { envs, files: {} });
      expect(noQuery.status).toBe(2);
      expect(noQuery.stderr).toContain('the job has no query.sql');
    });
  }
});

describe('both kinds start from one spec', () => {
  it('the binary spec is the yaml spec (questions, configs, defaults, image, script)', async () => {
    for (const resolver of [false, true]) {
      const dir = tempDir();
      const mods = resolver ? (['dependency-resolver'] as const) : [];
      writeScaffold(join(dir, 'y'), scaffoldFiles({ name: 'same', kind: 'yaml', mods }));
      writeScaffold(join(dir, 'b'), scaffoldFiles({ name: 'same', kind: 'binary', mods }));
      const y = (await loadScaffold(join(dir, 'y'))).plugin;
      const b = (await loadScaffold(join(dir, 'b'))).plugin;
      for (const key of [
        'description',
        'questions',
        'configs',
        'defaultConfig',
        'defaultAssets',
        'versions',
      ] as const)
        expect(b[key], key).toEqual(y[key]);
    }
  });

  it('src/main.ts type-checks with the tsconfig.json it comes with, against the SDK', () => {
    for (const resolver of [false, true]) {
      const dir = join(tempDir(), 'typed');
      writeScaffold(
        dir,
        scaffoldFiles({ name: 'typed', kind: 'binary', mods: resolver ? ['dependency-resolver'] : [] }),
      );
      // What `npm install` gives the project: the SDK under node_modules.
      mkdirSync(join(dir, 'node_modules/@optimus-ts'), { recursive: true });
      symlinkSync(join(REPO, 'packages/plugin-sdk'), join(dir, 'node_modules/@optimus-ts/plugin-sdk'));
      const tsc = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', dir], {
        encoding: 'utf8',
      });
      expect(tsc.stdout + tsc.stderr).toBe('');
      expect(tsc.status).toBe(0);
    }
  });

  it('package.json runs the authoring commands and names the SDK', () => {
    const dir = tempDir();
    writeScaffold(join(dir, 'pkg'), scaffoldFiles({ name: 'pkg', kind: 'binary', mods: [] }));
    expect(JSON.parse(readFileSync(join(dir, 'pkg/package.json'), 'utf8'))).toMatchObject({
      name: 'pkg',
      version: '0.1.0',
      private: true,
      type: 'module',
      scripts: {
        build: 'optimus plugin build .',
        test: 'optimus plugin test .',
        pack: 'optimus plugin pack .',
      },
      devDependencies: { '@optimus-ts/plugin-sdk': '0.1.0' },
    });
  });
});

describe('names', () => {
  it('keeps a name YAML would read as another type a string, everywhere it is written', async () => {
    for (const name of ['true', '1.0', 'null']) {
      const dir = tempDir();
      writeScaffold(join(dir, 'x'), scaffoldFiles({ name, kind: 'yaml', mods: ['dependency-resolver'] }));
      const { project, plugin } = await loadScaffold(join(dir, 'x'));
      expect(plugin.name).toBe(name);
      const report = checkLoadedJob(loadSampleJob(project), 'local', {
        plugins: new Map([[name, plugin]]),
        rules: [],
      });
      expect(report.problems).toEqual([]);
      expect(report.spec?.task.name).toBe(name);
    }
  });

  it('gives the image a repository name docker accepts', async () => {
    const dir = tempDir();
    writeScaffold(join(dir, 'x'), scaffoldFiles({ name: 'My_Loader..v2-', kind: 'yaml', mods: [] }));
    const { plugin } = await loadScaffold(join(dir, 'x'));
    expect(plugin.versions.default!.image).toBe('docker.io/your-org/my_loader-v2');
    expect(readFileSync(join(dir, 'x/Dockerfile'), 'utf8')).toContain(
      'docker build -t docker.io/your-org/my_loader-v2:0.1.0 .',
    );
  });
});

describe('refusals write nothing', () => {
  it('a name that is no plugin name (exit 2)', () => {
    const cwd = tempDir();
    for (const bad of ['_x', 'a b', 'ümlaut', '.hidden']) {
      const r = init(cwd, bad, 'yaml', false);
      expect(r.code).toBe(2);
      expect(r.json().error.code).toBe('PLUGIN_NAME_INVALID');
      expect(r.json().error.message).toContain('may contain only letters, digits');
    }
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('one name rule with pack: no "..", at most 100 characters; a name init takes packs', () => {
    const cwd = tempDir();
    const dots = init(cwd, 'a..b', 'yaml', false);
    expect(dots.code).toBe(2);
    expect(dots.json().error).toMatchObject({
      code: 'PLUGIN_NAME_INVALID',
      message: 'plugin name "a..b" may not contain "..": it names the artifact plugin pack writes',
      hint: 'e.g. a.b',
    });
    const long = init(cwd, 'p'.repeat(240), 'yaml', false);
    expect(long.code).toBe(2);
    expect(long.json().error.message).toContain('is 240 characters long, at most 100 are allowed');
    expect(long.json().error.hint).toBe(`e.g. ${'p'.repeat(100)}`);
    expect(readdirSync(cwd)).toEqual([]);

    const longest = 'q'.repeat(100);
    expect(init(cwd, longest, 'yaml', false).code).toBe(0);
    const packed = runOptimus(['plugin', 'pack', longest, '--json'], { cwd });
    expect(packed.code).toBe(0);
    expect(packed.json().file).toBe(`${longest}/dist/${longest}-0.1.0.yaml`);
  });

  it('a binary plugin whose name has a "." (its executable would not run), with the fix', () => {
    const cwd = tempDir();
    const r = init(cwd, 'wh.load', 'binary', false);
    expect(r.code).toBe(2);
    expect(r.json().error.hint).toContain('wh-load');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('an unknown --kind or --mod, listing what is accepted (exit 2)', () => {
    const cwd = tempDir();
    const kind = runOptimus(['plugin', 'init', 'p', '--kind', 'rust'], { cwd });
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('--kind "rust" is not a plugin kind');
    expect(kind.stderr).toContain('accepted: yaml, binary');
    const mod = runOptimus(['plugin', 'init', 'p', '--mod', 'compiler', '--json'], { cwd });
    expect(mod.code).toBe(2);
    expect(mod.json().error).toMatchObject({ code: 'PLUGIN_MOD_UNKNOWN' });
    expect(mod.json().error.hint).toContain('accepted: dependency-resolver');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('a folder that is not empty, unless --force, which replaces only the scaffold files', async () => {
    const cwd = tempDir({ 'p/notes.txt': 'mine\n', 'p/plugin.yaml': 'edited by hand\n' });
    const refused = init(cwd, 'p', 'yaml', false, ['--dir', 'p']);
    expect(refused.code).toBe(1);
    expect(refused.json().error.code).toBe('PLUGIN_DIR_NOT_EMPTY');
    expect(refused.json().error.hint).toContain('--force');
    expect(refused.json().error.hint).toContain('plugin.yaml');
    expect(readdirSync(join(cwd, 'p')).sort()).toEqual(['notes.txt', 'plugin.yaml']);
    expect(readFileSync(join(cwd, 'p/plugin.yaml'), 'utf8')).toBe('edited by hand\n');

    const forced = init(cwd, 'p', 'yaml', false, ['--dir', 'p', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.json()).toMatchObject({ files: FILES.yaml, overwritten: ['plugin.yaml'], warnings: [] });
    expect(readFileSync(join(cwd, 'p/notes.txt'), 'utf8')).toBe('mine\n');
    expect(readFileSync(join(cwd, 'p/plugin.yaml'), 'utf8')).toContain('version: 3');
    expect(readdirSync(join(cwd, 'p')).filter((n) => n.includes('optimus-init'))).toEqual([]);
    await loadScaffold(join(cwd, 'p'));
  });

  it('with --force over the other kind, says which old spec still decides what the folder is', () => {
    const cwd = tempDir();
    expect(init(cwd, 'p', 'yaml', false).code).toBe(0);
    const json = init(cwd, 'p', 'binary', false, ['--force']);
    expect(json.code).toBe(0);
    expect(json.json().warnings).toEqual([expect.stringContaining('plugin.yaml from before is kept')]);
    const human = runOptimus(['plugin', 'init', 'p', '--kind', 'binary', '--force'], { cwd });
    expect(human.code).toBe(0);
    expect(human.stderr).toContain('warning: plugin.yaml from before is kept');
    expect(human.stdout).toContain('wrote p: a binary plugin');
    expect(human.stdout).toContain('  ~ src/main.ts (overwritten)');
  });

  it('writes into an empty folder (the working directory itself, with --dir .)', () => {
    const cwd = tempDir();
    const r = init(cwd, 'here', 'yaml', false, ['--dir', '.']);
    expect(r.code).toBe(0);
    expect(r.json().dir).toBe('.');
    expect(readdirSync(cwd).sort()).toEqual([
      '.gitignore',
      'Dockerfile',
      'README.md',
      'plugin.yaml',
      'sample',
      'tests',
    ]);
  });

  it('with --force, a scaffold path taken by a folder or a file: refused before anything is written', () => {
    const cwd = tempDir({ 'p/keep.txt': 'k', 'p/sample': 'a file where the sample folder goes' });
    const r = init(cwd, 'p', 'yaml', false, ['--dir', 'p', '--force']);
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({ code: 'PLUGIN_DIR_CONFLICT' });
    expect(r.json().error.message).toContain('p/sample is not a folder');
    expect(readdirSync(join(cwd, 'p')).sort()).toEqual(['keep.txt', 'sample']);

    const cwd2 = tempDir({ 'p/README.md/x': 'a folder where README.md goes' });
    const r2 = init(cwd2, 'p', 'yaml', false, ['--dir', 'p', '--force']);
    expect(r2.code).toBe(1);
    expect(r2.json().error.message).toContain('p/README.md is a folder');
    expect(readdirSync(join(cwd2, 'p'))).toEqual(['README.md']);
  });

  it('a --dir that is a file', () => {
    const cwd = tempDir({ taken: 'x' });
    const r = init(cwd, 'p', 'yaml', false, ['--dir', 'taken']);
    expect(r.code).toBe(1);
    expect(r.json().error.code).toBe('PLUGIN_DIR_NOT_FOLDER');
    expect(readFileSync(join(cwd, 'taken'), 'utf8')).toBe('x');
  });

  it('a parent that is a file', () => {
    const cwd = tempDir({ taken: 'x' });
    const r = init(cwd, 'p', 'yaml', false, ['--dir', 'taken/deeper/p']);
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({
      code: 'PLUGIN_DIR_NOT_FOLDER',
      message: 'taken is not a folder, so taken/deeper/p cannot be made',
    });
    expect(readdirSync(cwd)).toEqual(['taken']);
  });

  it('a write that fails: an error naming the folder, the hint for its cause, and no folder or temp folder left', () => {
    const cwd = tempDir();
    // A --dir too long for a file name: making the folder fails (the temp folder beside it is shorter).
    const folder = `p${'x'.repeat(300)}`;
    const r = init(cwd, 'p', 'yaml', false, ['--dir', `new/${folder}`]);
    expect(r.code).toBe(1);
    expect(r.json().error.code).toBe('PLUGIN_INIT_WRITE_FAILED');
    expect(r.json().error.message).toContain(`cannot write the plugin project new/${folder}`);
    expect(r.json().error.hint).toBe('the path is too long: choose a shorter --dir; nothing was written');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('a folder no folder can be made in (/proc): an error at once, not "disk full"', () => {
    if (!existsSync('/proc/self')) return; // not Linux: no /proc to try
    const cwd = tempDir();
    for (const dir of ['/proc/optimus-p', '/proc/optimus-no/such/p']) {
      const r = init(cwd, 'p', 'yaml', false, ['--dir', dir]);
      expect(r.code, dir).toBe(1);
      expect(r.json().error.code, dir).toBe('PLUGIN_INIT_WRITE_FAILED');
      expect(r.json().error.hint, dir).toMatch(
        /^folders cannot be made there \(a system folder such as \/proc/,
      );
    }
  });

  it('a --dir that is a symbolic link to nothing (or under one) says so', () => {
    const cwd = tempDir();
    symlinkSync('gone', join(cwd, 'link'));
    for (const dir of ['link', 'link/p']) {
      const r = init(cwd, 'p', 'yaml', false, ['--dir', dir]);
      expect(r.code, dir).toBe(1);
      expect(r.json().error, dir).toMatchObject({
        code: 'PLUGIN_DIR_NOT_FOLDER',
        message: 'link is a symbolic link to gone, which does not exist',
      });
    }
    expect(readdirSync(cwd)).toEqual(['link']);
  });

  it('--force refuses a scaffold folder that is a symbolic link leading outside --dir, naming it', () => {
    const cwd = tempDir({
      'outside/job.yaml': 'theirs\n',
      'proj/notes.txt': 'mine\n',
      'proj/real/.keep': '',
    });
    symlinkSync('../outside', join(cwd, 'proj/sample'));
    const r = init(cwd, 'p', 'yaml', false, ['--dir', 'proj', '--force']);
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({
      code: 'PLUGIN_DIR_CONFLICT',
      message:
        "proj/sample is a symbolic link to outside, outside proj: the scaffold's files would be written there",
    });
    expect(readFileSync(join(cwd, 'outside/job.yaml'), 'utf8')).toBe('theirs\n');
    expect(readdirSync(join(cwd, 'outside'))).toEqual(['job.yaml']);
    expect(readdirSync(join(cwd, 'proj')).sort()).toEqual(['notes.txt', 'real', 'sample']);

    // A link that stays inside the folder is a folder like any other.
    const inside = tempDir({ 'proj/notes.txt': 'mine\n', 'proj/real/.keep': '' });
    symlinkSync('real', join(inside, 'proj/sample'));
    expect(init(inside, 'p', 'yaml', false, ['--dir', 'proj', '--force']).code).toBe(0);
    expect(readdirSync(join(inside, 'proj/real')).sort()).toEqual(['.keep', 'assets', 'job.yaml']);
  });

  it('a rename that fails half-way puts every file back as it was', () => {
    const cwd = tempDir({ 'p/plugin.yaml': 'old spec\n', 'p/notes.txt': 'mine\n', 'p/sample/.keep': '' });
    const dir = join(cwd, 'p');
    // sample/ cannot take new files, so sample/job.yaml fails after plugin.yaml and Dockerfile moved in.
    // The write runs as an unprivileged user: root would write there anyway.
    spawnSync('chown', ['-R', '65534:65534', cwd]);
    chmodSync(join(dir, 'sample'), 0o555);
    const write = `
      import { scaffoldFiles, writeScaffold } from ${JSON.stringify(join(REPO, 'dist/authoring/scaffold.js'))};
      if (process.getuid() === 0) { process.setgid(65534); process.setuid(65534); }
      try {
        writeScaffold(process.argv[1], scaffoldFiles({ name: 'p', kind: 'yaml', mods: [] }), { force: true });
        console.log('written');
      } catch (e) {
        console.log(e.code);
      }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', write, dir], { encoding: 'utf8' });
    chmodSync(join(dir, 'sample'), 0o755);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('PLUGIN_INIT_WRITE_FAILED');
    expect(readdirSync(dir).sort()).toEqual(['notes.txt', 'plugin.yaml', 'sample']);
    expect(readFileSync(join(dir, 'plugin.yaml'), 'utf8')).toBe('old spec\n');
    expect(readdirSync(join(dir, 'sample'))).toEqual(['.keep']);
  });

  it('a missing parent is created', () => {
    const cwd = tempDir();
    const ok = init(cwd, 'p', 'yaml', false, ['--dir', 'deep/er/p']);
    expect(ok.code).toBe(0);
    expect(readdirSync(join(cwd, 'deep/er'))).toEqual(['p']);
  });
});

describe('human output', () => {
  it('lists the files written and the next commands, pasteable from where it ran', () => {
    const cwd = tempDir();
    const r = runOptimus(['plugin', 'init', 'wh', '--kind', 'binary', '--dir', 'plugins/wh'], { cwd });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('created plugins/wh: a binary plugin');
    for (const f of FILES.binary) expect(lines).toContain(`  + ${f}`);
    expect(r.stdout).toContain('optimus plugin test plugins/wh');
    expect(r.stdout).toContain('optimus plugin run plugins/wh --secret API_TOKEN=test-token');
    expect(r.stdout).toContain('optimus plugin pack plugins/wh --url <base url>');
    expect(existsSync(join(cwd, 'plugins/wh/src/main.ts'))).toBe(true);
  });
});
