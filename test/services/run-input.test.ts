import { spawnSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Parser } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plugin } from '../../src/core/plugin.js';
import { loadPluginRegistry } from '../../src/server/plugin-registry.js';
import {
  compileRunInput,
  envFileText,
  normaliseInstanceType,
  parseRfc3339,
  type RunInput,
  type RunInputRequest,
  runInputTar,
  writeRunInput,
} from '../../src/services/run-input.js';
import { createSecretCipher, type SecretCipher } from '../../src/services/secret-cipher.js';
import { createStore } from '../../src/store/create-store.js';
import type { Json, Store } from '../../src/store/store.js';
import { APP_KEY } from '../helpers/server.js';
import { tempDir } from '../helpers/temp-project.js';

const PLUGINS = {
  'loader.yaml': `version: 3
name: loader
plugin_versions:
  default: {image: docker.io/acme/loader, tag: "1.0.0", entrypoint: {script: 'load "$TABLE"'}}
  "0.9": {tag: "0.9.4"}
configs:
  - {name: TABLE, required: true}
  - {name: TOKEN, required: false, secret: true}
default_config: {BATCH: "500"}
destination_urn_template: store://<PROJECT>.<TABLE>
`,
  'notify.yaml': `version: 3
name: notify
plugin_versions:
  default: {image: docker.io/acme/notify, tag: "2.1.0", entrypoint: {script: 'notify'}}
configs:
  - {name: CHANNEL, required: true}
`,
  'legacy.yaml': `name: legacy
plugintype: hook
pluginversion: 0.1.0
image: docker.io/acme/legacy:0.1.0
`,
};

const API_KEY = `k3y'with "quotes" $HOME \`id\` and\nnewline`;
let store: Store;
let plugins: ReadonlyMap<string, Plugin>;
let cipher: SecretCipher;
let hash = 0;

async function deploy(
  spec: Record<string, unknown>,
  assets: Record<string, string> = {},
  opts: { namespace?: string; runGraph?: Json } = {},
) {
  const namespaceName = opts.namespace ?? 'ns1';
  const now = new Date();
  await store.applyDeploy({
    upsert: [
      {
        projectName: 'p',
        namespaceName,
        name: String(spec.name),
        spec: spec as Json,
        assets,
        hash: `h${++hash}`,
        runGraph: opts.runGraph ?? [],
      },
    ],
    delete: [],
    deploy: {
      projectName: 'p',
      namespaceName,
      status: 'succeeded',
      startedAt: now,
      finishedAt: now,
      added: [String(spec.name)],
      modified: [],
      deleted: [],
      unchanged: 0,
      problems: [],
    },
  });
}

const job = (name: string, extra: Record<string, unknown> = {}) => ({
  version: 3,
  name,
  owner: 'o@acme.example',
  schedule: { start_date: '2026-01-01', interval: '0 2 * * *' },
  labels: { zeta: 'z', alpha: 'a' },
  task: {
    name: 'loader',
    config: { PROJECT: 'acme', TABLE: 't_1', DAY: '{{ .DSTART | Date }}' },
    window: { size: '1d', truncate_to: 'd' },
  },
  ...extra,
});

const AT = new Date('2026-03-02T02:00:00Z');
const compile = (over: Partial<RunInputRequest> & { jobName: string }) =>
  compileRunInput(
    { store, plugins, cipher },
    {
      projectName: 'p',
      scheduledAt: AT,
      instanceType: 'task',
      instanceName: 'loader',
      withSecrets: true,
      ...over,
    },
  );

/** What a caller sees of a refusal: code, field and message. */
async function refusal(
  p: Promise<unknown>,
): Promise<{ code: string; field?: string; message: string; hint?: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code: string; field?: string; message: string; hint?: string };
    return { code: err.code, field: err.field, message: err.message, hint: err.hint };
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  store = await createStore({});
  cipher = createSecretCipher(APP_KEY);
  const dir = tempDir(PLUGINS);
  plugins = (await loadPluginRegistry(dir)).plugins;
  await store.upsertProject({
    name: 'p',
    config: { WAREHOUSE: 'wh_project', REGION: 'eu' },
    pluginDependencies: [],
    windowPresets: { yesterday: { window: { size: '1d', truncate_to: 'd', shift_by: '-1d' } } },
  });
  await store.upsertNamespace({ projectName: 'p', name: 'ns1', config: { warehouse: 'wh_ns1' } });
  await store.upsertNamespace({ projectName: 'p', name: 'ns2', config: {} });
  const secret = (name: string, value: string, namespaceName: string | null = null) =>
    store.insertSecret({ projectName: 'p', name, namespaceName, ...cipher.encrypt(Buffer.from(value)) });
  await secret('API_KEY', API_KEY);
  await secret('NS2_ONLY', 'only-for-ns2', 'ns2');
  await secret('DATE_SECRET', 'not-a-date-s3cr3t');

  await deploy(
    job('full', {
      task: {
        name: 'loader',
        config: {
          PROJECT: 'acme',
          TABLE: 't_1',
          DAY: '{{ .DSTART | Date }}',
          WH: '{{ .GLOBAL__WAREHOUSE }}',
          PROJ_WH: '{{ .proj.WAREHOUSE }}',
          INST: '{{ .inst.JOB_NAME }}@{{ .inst.NAMESPACE }}',
          DEST: 'into {{ .JOB_DESTINATION }}',
          DSTART: 'overridden by the system',
          TOKEN: 'Bearer {{ .secret.API_KEY }}',
        },
        window: { size: '1d', truncate_to: 'd' },
      },
      hooks: [
        {
          name: 'tell-team',
          type: 'notify',
          config: {
            CHANNEL: '#{{ .TASK__TABLE }}-{{ .task.DAY }}',
            FORWARDED: '{{ .TASK__TOKEN }}',
          },
        },
        { name: 'old', type: 'post' },
      ],
    }),
    {
      'query.sql':
        'select * from {{ .TASK__TABLE }}{{ .GLOBAL__REGION }} where d >= "{{ .DSTART }}"\n{{ template "cols.gtpl" . }}',
      'cols.gtpl': '{{ define "cols.gtpl" }}-- cols for {{ .JOB_DESTINATION }}{{ end }}',
      'sub/conn.txt': 'key={{ .secret.API_KEY }}',
    },
    {
      runGraph: [
        { name: 'loader', type: 'loader', stage: 'task', depends_on: [] },
        { name: 'tell-team', type: 'notify', stage: 'post', depends_on: ['loader'] },
        { name: 'old', type: 'legacy', stage: 'post', depends_on: ['loader'] },
      ],
    },
  );
});
afterAll(async () => store.close());

describe('task input', () => {
  let input: RunInput;
  beforeAll(async () => {
    input = await compile({ jobName: 'full' });
  });

  it('renders the config with the window, project and namespace config, and system variables', () => {
    expect(input.envs).toMatchObject({
      DSTART: '2026-03-01T00:00:00Z',
      DEND: '2026-03-02T00:00:00Z',
      EXECUTION_TIME: '2026-03-02T02:00:00Z',
      DAY: '2026-03-01',
      WH: 'wh_ns1',
      PROJ_WH: 'wh_ns1',
      INST: 'full@ns1',
      JOB_NAME: 'full',
      NAMESPACE: 'ns1',
      JOB_LABELS: 'alpha=a,zeta=z',
      GLOBAL__WAREHOUSE: 'wh_ns1',
      GLOBAL__REGION: 'eu',
      BATCH: '500',
    });
  });

  it("lets the node's config win over the job's identity, and the window win over the config", () => {
    expect(input.envs.PROJECT).toBe('acme');
    expect(input.envs.DSTART).toBe('2026-03-01T00:00:00Z');
  });

  it("makes JOB_DESTINATION from the plugin's template and the rendered config", () => {
    expect(input.envs.JOB_DESTINATION).toBe('store://acme.t_1');
    expect(input.envs.DEST).toBe('into store://acme.t_1');
  });

  it('puts configs that read secrets in secrets, resolved, and nowhere else', () => {
    expect(input.secrets).toEqual({ TOKEN: `Bearer ${API_KEY}` });
    expect(input.envs).not.toHaveProperty('TOKEN');
    expect(JSON.stringify(input.envs)).not.toContain('k3y');
    expect(input.secretsWithheld).toEqual([]);
    expect(input.maskValues).toEqual([`Bearer ${API_KEY}`, API_KEY]);
  });

  it('renders assets with partials, which are not outputs', () => {
    expect(Object.keys(input.files).sort()).toEqual(['query.sql', 'sub/conn.txt']);
    expect(input.files['sub/conn.txt']).toBe(`key=${API_KEY}`);
    expect(input.files['query.sql']).toContain(
      'where d >= "2026-03-01T00:00:00Z"\n-- cols for store://acme.t_1',
    );
  });

  it('warns where a key is missing, naming the asset and line', () => {
    // TASK__TABLE exists for hooks only.
    expect(input.files['query.sql']).toMatch(/^select \* from <no value>eu/);
    expect(input.warnings).toEqual([expect.stringMatching(/^query\.sql:1:\d+: .*TASK__TABLE.*<no value>/)]);
  });

  it("names the plugin's image and entrypoint and the window", () => {
    expect(input.plugin).toEqual({
      name: 'loader',
      image: 'docker.io/acme/loader:1.0.0',
      entrypoint: { shell: '/bin/sh', script: 'load "$TABLE"' },
    });
    expect(input.window).toEqual({
      start: new Date('2026-03-01T00:00:00Z'),
      end: new Date('2026-03-02T00:00:00Z'),
      location: 'UTC',
    });
    expect(input.job.name).toBe('full');
  });

  it('uses the plugin version the task names, and the execution time when given', async () => {
    await deploy(
      job('pinned', { task: { name: 'loader', version: '0.9', config: { PROJECT: 'a', TABLE: 'b' } } }),
    );
    const r = await compile({ jobName: 'pinned', executedAt: new Date('2026-03-02T02:07:09Z') });
    expect(r.plugin.image).toBe('docker.io/acme/loader:0.9.4');
    expect(r.envs.EXECUTION_TIME).toBe('2026-03-02T02:07:09Z');
  });

  it('computes the window from a project preset, in its zone', async () => {
    await deploy(
      job('preset', {
        task: { name: 'loader', config: { PROJECT: 'a', TABLE: 'b' }, window: { preset: 'yesterday' } },
      }),
    );
    const r = await compile({ jobName: 'preset' });
    expect([r.envs.DSTART, r.envs.DEND]).toEqual(['2026-02-28T00:00:00Z', '2026-03-01T00:00:00Z']);
  });
});

describe('without secrets', () => {
  it('decrypts nothing and names what it left out', async () => {
    const r = await compile({ jobName: 'full', withSecrets: false });
    expect(r.secrets).toEqual({});
    expect(r.secretsWithheld).toEqual(['TOKEN', 'in/sub/conn.txt']);
    expect(Object.keys(r.files).sort()).toEqual(['query.sql']);
    expect(r.maskValues).toEqual([]);
    expect(JSON.stringify(r)).not.toContain('k3y');
  });

  it("withholds a hook's copies of secret task configs", async () => {
    const r = await compile({
      jobName: 'full',
      instanceType: 'hook',
      instanceName: 'tell-team',
      withSecrets: false,
    });
    expect(r.secretsWithheld).toEqual(['FORWARDED', 'TASK__TOKEN', 'in/sub/conn.txt']);
    expect(r.envs).not.toHaveProperty('FORWARDED');
    expect(JSON.stringify(r)).not.toContain('k3y');
  });
});

describe('hook input', () => {
  it("gets the task's rendered config as TASK__* and .task, secret ones as secrets", async () => {
    const r = await compile({ jobName: 'full', instanceType: 'hook', instanceName: 'tell-team' });
    expect(r.envs).toMatchObject({
      CHANNEL: '#t_1-2026-03-01',
      TASK__TABLE: 't_1',
      TASK__DAY: '2026-03-01',
      TASK__PROJECT: 'acme',
      JOB_DESTINATION: 'store://acme.t_1',
      PROJECT: 'p',
    });
    expect(r.secrets).toEqual({ TASK__TOKEN: `Bearer ${API_KEY}`, FORWARDED: `Bearer ${API_KEY}` });
    expect(r.plugin).toMatchObject({ name: 'notify', image: 'docker.io/acme/notify:2.1.0' });
    expect(r.files['query.sql']).toMatch(/^select \* from t_1eu/);
  });

  it("accepts upstream's __dash__ for - and uses the plugin deploy resolved", async () => {
    const r = await compile({ jobName: 'full', instanceType: 'hook', instanceName: 'tell__dash__team' });
    expect(r.envs.CHANNEL).toBe('#t_1-2026-03-01');
    const legacy = await compile({ jobName: 'full', instanceType: 'hook', instanceName: 'old' });
    expect(legacy.plugin).toEqual({ name: 'legacy', image: 'docker.io/acme/legacy:0.1.0' });
  });
});

describe('refusals', () => {
  it('refuses a hook the job does not have, naming its hooks', async () => {
    expect(await refusal(compile({ jobName: 'full', instanceType: 'hook', instanceName: 'nobody' }))).toEqual(
      {
        code: 'INSTANCE_NOT_FOUND',
        field: 'instance_name',
        message: 'job "full" has no hook "nobody"',
        hint: 'hooks of this job: tell-team, old',
      },
    );
    expect(await refusal(compile({ jobName: 'full', instanceName: 'notify' }))).toMatchObject({
      code: 'INSTANCE_NOT_FOUND',
      message: 'the task of job "full" is "loader", not "notify"',
    });
  });

  it('refuses a job that is not deployed', async () => {
    expect(await refusal(compile({ jobName: 'ghost' }))).toMatchObject({
      code: 'JOB_NOT_FOUND',
      message: 'job "ghost" is not deployed in project "p"',
    });
  });

  it('refuses a plugin the server does not have', async () => {
    await deploy(job('orphan', { task: { name: 'gone', config: {} } }));
    expect(await refusal(compile({ jobName: 'orphan', instanceName: 'gone' }))).toMatchObject({
      code: 'PLUGIN_NOT_INSTALLED',
      message: 'plugin "gone" (the task of job "orphan") is not installed on this server',
    });
  });

  it('names the config key and line of a template that does not parse', async () => {
    await deploy(
      job('bad-parse', { task: { name: 'loader', config: { PROJECT: 'a', TABLE: 'x\n{{ if }}' } } }),
    );
    expect(await refusal(compile({ jobName: 'bad-parse' }))).toMatchObject({
      code: 'TEMPLATE_PARSE',
      field: 'task.config.TABLE',
      message: expect.stringMatching(/^template task\.config\.TABLE:2:\d+: /),
    });
  });

  it('names the asset and line of a template that fails', async () => {
    await deploy(job('bad-exec'), { 'a.sql': 'ok\nok\n{{ index .GLOBAL__REGION 99 }}' });
    expect(await refusal(compile({ jobName: 'bad-exec' }))).toMatchObject({
      code: 'TEMPLATE_EXEC',
      field: 'assets.a.sql',
      message: expect.stringMatching(/^template a\.sql:3:\d+: /),
    });
  });

  it('fails clearly on a secret that is not set for the namespace, naming key and secret', async () => {
    await deploy(
      job('no-secret', {
        task: { name: 'loader', config: { PROJECT: 'a', TABLE: 'b', TOKEN: '{{ .secret.NS2_ONLY }}' } },
      }),
    );
    expect(await refusal(compile({ jobName: 'no-secret' }))).toEqual({
      code: 'SECRET_MISSING',
      field: 'task.config.TOKEN',
      message: 'task.config.TOKEN uses secret NS2_ONLY, which is not set for namespace "ns1" of project "p"',
      hint: 'set it with `optimus secret set NS2_ONLY`',
    });
    // Also when secrets are not asked for: the node would fail the same way.
    expect((await refusal(compile({ jobName: 'no-secret', withSecrets: false }))).code).toBe(
      'SECRET_MISSING',
    );
  });

  it('refuses a window it cannot compute, naming the field', async () => {
    await deploy(
      job('bad-window', {
        task: { name: 'loader', config: { PROJECT: 'a', TABLE: 'b' }, window: { preset: 'nope' } },
      }),
    );
    expect((await refusal(compile({ jobName: 'bad-window' }))).code).toBe('WINDOW_INVALID');
  });

  it('refuses asset names that would not land under in/', async () => {
    // NUL cannot even be stored (deploy refuses it before); writeRunInput refuses it too, below.
    for (const name of ['../escape.sql', 'a/../../b', 'x'.repeat(300), '.env', '/abs.sql', 'a\\b']) {
      await deploy(job('bad-asset'), { [name]: 'select 1' });
      const r = await refusal(compile({ jobName: 'bad-asset' }));
      expect(r.code, JSON.stringify(name)).toBe('ASSET_NAME_INVALID');
    }
  });

  it('refuses a config key no shell variable can hold', async () => {
    await deploy(
      job('bad-key', { task: { name: 'loader', config: { PROJECT: 'a', TABLE: 'b', 'X-Y': '1' } } }),
    );
    expect(await refusal(compile({ jobName: 'bad-key' }))).toMatchObject({
      code: 'CONFIG_NAME_INVALID',
      field: 'task.config.X-Y',
    });
  });

  it('never repeats a secret value in a warning', async () => {
    await deploy(
      job('warn-secret', {
        task: {
          name: 'loader',
          config: { PROJECT: 'a', TABLE: 'b', TOKEN: '{{ toDate "2006-01-02" .secret.DATE_SECRET }}' },
        },
      }),
    );
    const r = await compile({ jobName: 'warn-secret' });
    expect(r.warnings.length).toBeGreaterThan(0);
    expect(r.warnings.join('\n')).not.toContain('not-a-date-s3cr3t');
    expect(r.warnings.join('\n')).toContain('****');
  });
});

describe('writing the input', () => {
  const tricky = {
    QUOTES: `it's "quoted"`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion sh must not perform
    DOLLAR: '$HOME ${PATH} $(id)',
    TICKS: '`id` and \\ backslash',
    LINES: 'one\ntwo\n\nthree',
    EMPTY: '',
    UNICODE: 'zürich ✓',
  };

  it('writes files and .env/.secret that sh reads back verbatim', async () => {
    const dir = tempDir();
    await writeRunInput(dir, {
      envs: tricky,
      secrets: { SECRET_ONE: `se'cr"et$1\`x\`` },
      files: { 'q.sql': 'select 1', 'deep/er/x.txt': 'x' },
    });
    expect(readFileSync(join(dir, 'in/q.sql'), 'utf8')).toBe('select 1');
    expect(readFileSync(join(dir, 'in/deep/er/x.txt'), 'utf8')).toBe('x');
    expect(statSync(join(dir, 'in/.env')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'in/.secret')).mode & 0o777).toBe(0o600);
    const script = `set -a; . ./in/.env; . ./in/.secret; set +a; for k in ${Object.keys(tricky).join(' ')} SECRET_ONE; do eval "printf '%s\\0' \\"\\$$k\\""; done`;
    const r = spawnSync('sh', ['-c', script], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\0').slice(0, -1)).toEqual([...Object.values(tricky), `se'cr"et$1\`x\``]);
  });

  it('replaces an earlier input and tightens the mode of an existing .secret', async () => {
    const dir = tempDir({ 'in/.secret': 'OLD=1\n', 'in/q.sql': 'old' });
    await writeRunInput(dir, { envs: {}, secrets: { A: 'b' }, files: { 'q.sql': 'new' } });
    expect(readFileSync(join(dir, 'in/.secret'), 'utf8')).toBe("A='b'\n");
    expect(statSync(join(dir, 'in/.secret')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'in/q.sql'), 'utf8')).toBe('new');
  });

  it('refuses to follow a symbolic link left in the output folder', async () => {
    const dir = tempDir();
    const outside = tempDir();
    mkdirSync(join(dir, 'in'));
    symlinkSync(outside, join(dir, 'in/sub'));
    symlinkSync(join(outside, 'target'), join(dir, 'in/.env'));
    await expect(
      writeRunInput(dir, { envs: {}, secrets: {}, files: { 'sub/x.sql': '1' } }),
    ).rejects.toMatchObject({
      code: 'RUN_INPUT_PATH_TAKEN',
    });
    await expect(writeRunInput(dir, { envs: {}, secrets: {}, files: {} })).rejects.toMatchObject({
      code: 'RUN_INPUT_PATH_TAKEN',
    });
    expect(readdirSync(outside)).toEqual([]);
    expect(lstatSync(join(dir, 'in/.env')).isSymbolicLink()).toBe(true);
  });

  it('refuses names that escape in/ or that sh cannot hold', async () => {
    const dir = tempDir();
    for (const name of ['../x', 'a/../../x', '.secret', 'n\0l'])
      await expect(
        writeRunInput(dir, { envs: {}, secrets: {}, files: { [name]: '1' } }),
      ).rejects.toMatchObject({
        code: 'ASSET_NAME_INVALID',
      });
    await expect(
      writeRunInput(dir, { envs: { 'A;rm -rf': '1' }, secrets: {}, files: {} }),
    ).rejects.toMatchObject({
      code: 'RUN_INPUT_NAME_INVALID',
    });
    await expect(writeRunInput(dir, { envs: {}, secrets: { A: 'x\0y' }, files: {} })).rejects.toMatchObject({
      code: 'RUN_INPUT_VALUE_INVALID',
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('escapes single quotes the way sh reads them', () => {
    expect(envFileText({ B: "it's", A: '' })).toBe("A=''\nB='it'\\''s'\n");
  });
});

describe('the tar form', () => {
  const input = {
    envs: { DSTART: '2026-03-01T00:00:00Z', Q: "it's" },
    secrets: { TOKEN: 's3cret' },
    files: {
      'q.sql': 'select 1',
      'sql/part.sql': 'select 2',
      [`${'d'.repeat(100)}/${'f'.repeat(140)}.sql`]: 'long',
    },
  };

  it('unpacks with tar into the same files as writeRunInput writes', async () => {
    const a = tempDir();
    const b = tempDir();
    writeFileSync(join(a, 'input.tar'), runInputTar(input));
    const r = spawnSync('tar', ['-xf', 'input.tar'], { cwd: a, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    await writeRunInput(b, input);
    const read = (root: string) =>
      Object.fromEntries(
        (readdirSync(join(root, 'in'), { recursive: true }) as string[])
          .filter((p) => statSync(join(root, 'in', p)).isFile())
          .sort()
          .map((p) => [p, readFileSync(join(root, 'in', p), 'utf8')]),
      );
    expect(read(a)).toEqual(read(b));
    expect(statSync(join(a, 'in/.secret')).mode & 0o777).toBe(0o600);
  });

  it('is a well-formed archive with folders first', async () => {
    const entries: string[] = [];
    const parser = new Parser({
      strict: true,
      onReadEntry: (e) => {
        entries.push(`${e.type} ${e.path.replace(/\/$/, '')} ${e.mode?.toString(8)}`);
        e.resume();
      },
    });
    await new Promise<void>((done, fail) => {
      parser.on('end', done);
      parser.on('error', fail);
      parser.end(runInputTar(input));
    });
    expect(entries).toEqual([
      'Directory in 755',
      `Directory in/${'d'.repeat(100)} 755`,
      'Directory in/sql 755',
      `File in/${'d'.repeat(100)}/${'f'.repeat(140)}.sql 644`,
      'File in/q.sql 644',
      'File in/sql/part.sql 644',
      'File in/.env 600',
      'File in/.secret 600',
    ]);
  });

  it('refuses an escaping name instead of packing it', () => {
    expect(() => runInputTar({ envs: {}, secrets: {}, files: { '../../etc/x': '1' } })).toThrow(
      expect.objectContaining({ code: 'ASSET_NAME_INVALID' }),
    );
  });
});

describe('request values', () => {
  it('reads RFC3339 times with zones and refuses the rest', () => {
    expect(parseRfc3339('2026-03-01T02:00:00Z')).toEqual(new Date('2026-03-01T02:00:00Z'));
    expect(parseRfc3339('2026-03-01T09:00:00.5+07:00')).toEqual(new Date('2026-03-01T02:00:00.500Z'));
    expect(parseRfc3339('0001-01-01T00:00:00Z')?.getUTCFullYear()).toBe(1);
    for (const bad of [
      '2026-02-30T00:00:00Z',
      '2026-03-01T24:00:00Z',
      '2026-03-01',
      '2026-03-01T02:00:00',
      'now',
      '2026-13-01T00:00:00Z',
      '2026-03-01T02:00:00+25:00',
    ])
      expect(parseRfc3339(bad), bad).toBeUndefined();
  });

  it("accepts upstream's instance types", () => {
    expect(['task', 'hook', 'TYPE_TASK', 'TYPE_HOOK', 'Hook', 'post'].map(normaliseInstanceType)).toEqual([
      'task',
      'hook',
      'task',
      'hook',
      'hook',
      undefined,
    ]);
  });
});
