import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../../src/core/canonical-json.js';
import type { JobSpec } from '../../../src/core/job.js';
import { loadPluginRegistry, type PluginRegistry } from '../../../src/server/plugin-registry.js';
import type { InferRequest, Inferrer } from '../../../src/services/lineage-contract.js';
import { createInferrer } from '../../../src/services/lineage-infer.js';
import { createSecretCipher, type SecretCipher } from '../../../src/services/secret-cipher.js';
import { loadJobValue } from '../../../src/spec/job-spec.js';
import { createStore } from '../../../src/store/create-store.js';
import type { Store } from '../../../src/store/store.js';
import { APP_KEY } from '../../helpers/server.js';
import { tempPluginDir, writeFakePlugin } from './fake-plugins.js';

const MOD_SECRET = 'mod-visible-s3cr3t';
const HIDDEN_SECRET = 'never-for-mods-s3cr3t';

let store: Store;
let cipher: SecretCipher;
let registry: PluginRegistry;
let pluginDir: { dir: string; cleanup(): void };
let inferrer: Inferrer | undefined;
const logged: string[] = [];
const logger = {
  info: (o: unknown, msg?: string) => logged.push(`${JSON.stringify(o)} ${msg}`),
  warn: (o: unknown, msg?: string) => logged.push(`${JSON.stringify(o)} ${msg}`),
};

const spec = (name: string, task: Record<string, unknown>): JobSpec => {
  const loaded = loadJobValue(
    {
      version: 3,
      name,
      owner: 'o@acme.example',
      schedule: { start_date: '2026-01-01', interval: '0 2 * * *' },
      labels: { team: 'growth' },
      task: { window: { size: '1d', truncate_to: 'd' }, ...task },
    },
    [],
  );
  if (!loaded.spec) throw new Error(JSON.stringify(loaded.problems));
  return loaded.spec;
};

const request = (
  name: string,
  task: Record<string, unknown>,
  over: Partial<InferRequest> = {},
): InferRequest => ({
  projectName: 'p',
  namespaceName: 'marketing',
  spec: spec(name, task),
  assets: {},
  hash: `hash-of-${name}`,
  projectConfig: { GCP_PROJECT: 'acme-prod' },
  namespaceConfig: {},
  ...over,
});

const received = () =>
  readFileSync(join(pluginDir.dir, 'received.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(
      (l) =>
        JSON.parse(l) as {
          job: { name: string };
          config: Record<string, string>;
          assets: Record<string, string>;
        },
    );

beforeAll(async () => {
  store = await createStore({});
  cipher = createSecretCipher(APP_KEY);
  await store.upsertProject({ name: 'p', config: {}, pluginDependencies: [], windowPresets: null });
  await store.upsertNamespace({ projectName: 'p', name: 'marketing', config: {} });
  for (const [name, value] of [
    ['MOD_TOKEN', MOD_SECRET],
    ['HIDDEN_TOKEN', HIDDEN_SECRET],
  ] as const)
    await store.insertSecret({
      projectName: 'p',
      name,
      namespaceName: null,
      ...cipher.encrypt(Buffer.from(value)),
    });

  pluginDir = tempPluginDir();
  writeFakePlugin(pluginDir.dir, 'bq2bq', {
    configs: [
      { name: 'TOKEN', secret: true, for_mods: true },
      { name: 'OTHER_TOKEN', secret: true },
    ],
    perJob: `
      if (method === 'generate_destination') {
        fs.appendFileSync(path.join(__dirname, 'received.jsonl'), JSON.stringify(params) + '\\n');
        process.stderr.write('resolving ' + job.name + ' with token ' + params.config.TOKEN + '\\n');
      }
      if (job.name === 'crashes') process.exit(9);
      if (job.name === 'leaky' && method === 'generate_dependencies')
        return { jsonrpc: '2.0', id, result: { dependencies: [], warnings: ['could not use ' + params.config.TOKEN] } };`,
  });
  const yaml = (name: string, body: string) => writeFileSync(join(pluginDir.dir, `${name}.yaml`), body);
  yaml(
    'bq-yaml',
    `version: 3
name: bq-yaml
plugin_versions:
  default: {image: docker.io/acme/bq, tag: "1", entrypoint: {script: run}}
configs:
  - {name: PROJECT, required: true}
  - {name: TABLE, required: true}
destination_urn_template: bigquery://<PROJECT>:mart.<TABLE>
asset_parsers: {bq: [{filepath: query.sql}]}
`,
  );
  yaml(
    'plain',
    `version: 3
name: plain
plugin_versions:
  default: {image: docker.io/acme/plain, tag: "1", entrypoint: {script: run}}
`,
  );
  registry = await loadPluginRegistry(pluginDir.dir);
});

afterEach(async () => {
  await inferrer?.close();
  inferrer = undefined;
});

afterAll(async () => {
  await store.close();
  pluginDir.cleanup();
});

const make = () => {
  inferrer = createInferrer({ plugins: registry, store, cipher, logger, modHost: { poolSize: 2 } });
  return inferrer;
};

describe('lineage inference', () => {
  it('passes a for_mods secret rendered to the mod, leaves other secret configs out, and logs no secret', async () => {
    const inf = make();
    const [r] = await inf.infer([
      request('roi', {
        name: 'bq2bq',
        config: {
          DEST: 'acme:mart.roi',
          READS: 'acme:ads.spend,acme:crm.orders,acme:ads.spend,acme:mart.roi',
          TOKEN: 'Bearer {{ .secret.MOD_TOKEN }}',
          OTHER_TOKEN: '{{ .secret.HIDDEN_TOKEN }}',
          DAY: '{{ .DSTART }}',
          WH: '{{ .GLOBAL__GCP_PROJECT }}',
        },
      }),
    ]);
    expect(r).toEqual({
      ok: true,
      lineage: {
        key: expect.stringMatching(/^[0-9a-f]{64}$/),
        destination: 'bigquery://acme:mart.roi',
        sources: ['bigquery://acme:ads.spend', 'bigquery://acme:crm.orders'],
        warnings: [],
      },
    });
    const [seen] = received();
    expect(seen?.job).toEqual({
      project: 'p',
      namespace: 'marketing',
      name: 'roi',
      labels: { team: 'growth' },
    });
    expect(seen?.config.TOKEN).toBe(`Bearer ${MOD_SECRET}`);
    expect(seen?.config).not.toHaveProperty('OTHER_TOKEN');
    expect(JSON.stringify(seen)).not.toContain(HIDDEN_SECRET);
    expect(seen?.config.DAY).toBe('2025-12-31T00:00:00Z');
    expect(seen?.config.WH).toBe('acme-prod');
    await inf.close();
    expect(logged.join('\n')).toContain('resolving roi with token ****');
    expect(logged.join('\n')).not.toContain(MOD_SECRET);
  });

  it('masks secret values in warnings a mod sends back', async () => {
    const [r] = await make().infer([
      request('leaky', { name: 'bq2bq', config: { TOKEN: '{{ .secret.MOD_TOKEN }}' } }),
    ]);
    expect(r).toMatchObject({ ok: true, lineage: { warnings: ['could not use ****'] } });
  });

  it('fails only the job that crashes its plugin, naming plugin and job', async () => {
    const results = await make().infer([
      request('crashes', { name: 'bq2bq', config: { TOKEN: '{{ .secret.MOD_TOKEN }}' } }),
      request('fine', { name: 'bq2bq', config: { DEST: 'acme:mart.fine' } }),
    ]);
    expect(results[0]).toEqual({
      ok: false,
      problem: expect.objectContaining({
        severity: 'error',
        code: 'LINEAGE_FAILED',
        path: 'task',
        message: expect.stringMatching(/^plugin bq2bq failed for job marketing\/crashes: exited \(code 9\)/),
        hint: expect.any(String),
      }),
    });
    expect(JSON.stringify(results[0])).not.toContain(MOD_SECRET);
    expect(results[1]).toMatchObject({ ok: true, lineage: { destination: 'bigquery://acme:mart.fine' } });
  });

  it('refuses an answer that is no URN as a problem of that job', async () => {
    const [r] = await make().infer([request('odd', { name: 'bq2bq', config: { DEST: 'has a space' } })]);
    expect(r).toMatchObject({
      ok: false,
      problem: {
        code: 'LINEAGE_INVALID',
        path: 'task',
        message: expect.stringContaining('"bigquery://has a space"'),
      },
    });
  });

  it('infers a YAML plugin from its template and parsers, with rendered assets', async () => {
    const [r] = await make().infer([
      request(
        'yaml-job',
        { name: 'bq-yaml', config: { PROJECT: 'acme', TABLE: 'daily' } },
        {
          assets: {
            'query.sql':
              'select * from `acme.raw.events_{{ .DSTART | Date | replace "-" "" }}` join `acme.mart.daily` using (id)',
          },
        },
      ),
    ]);
    expect(r).toMatchObject({
      ok: true,
      lineage: {
        destination: 'bigquery://acme:mart.daily',
        sources: ['bigquery://acme:raw.events_20251231'],
      },
    });
  });

  it('infers a job whose secrets are not set when its plugin does not ask for them', async () => {
    const [r, yaml] = await make().infer([
      request('unset', {
        name: 'bq2bq',
        config: { DEST: 'acme:mart.unset', OTHER_TOKEN: '{{ .secret.NOT_SET_ANYWHERE }}' },
      }),
      request('unset-yaml', {
        name: 'bq-yaml',
        config: { PROJECT: 'acme', TABLE: 't', TOKEN: '{{ .secret.NOT_SET_ANYWHERE }}' },
      }),
    ]);
    expect(r).toMatchObject({ ok: true, lineage: { destination: 'bigquery://acme:mart.unset' } });
    expect(yaml).toMatchObject({ ok: true, lineage: { destination: 'bigquery://acme:mart.t' } });
  });

  it('infers a job whose window preset the project has not registered, with a warning', async () => {
    const [r] = await make().infer([
      request('preset', {
        name: 'bq-yaml',
        config: { PROJECT: 'acme', TABLE: 'p' },
        window: { preset: 'yesterday' },
      }),
    ]);
    expect(r).toMatchObject({
      ok: true,
      lineage: {
        destination: 'bigquery://acme:mart.p',
        warnings: [
          expect.stringMatching(/window cannot be computed .*yesterday.*default window/),
          'asset_parsers.bq[0].filepath: the job has no asset query.sql',
        ],
      },
    });
  });

  it('names a for_mods secret that is not set', async () => {
    const [r] = await make().infer([
      request('missing', { name: 'bq2bq', config: { TOKEN: '{{ .secret.NOT_SET_ANYWHERE }}' } }),
    ]);
    expect(r).toMatchObject({
      ok: false,
      problem: {
        code: 'LINEAGE_FAILED',
        path: 'task.config.TOKEN',
        message: expect.stringContaining('NOT_SET_ANYWHERE'),
      },
    });
  });

  it('names the config a YAML plugin’s template misses', async () => {
    const [r] = await make().infer([request('no-table', { name: 'bq-yaml', config: { PROJECT: 'acme' } })]);
    expect(r).toMatchObject({ ok: false, problem: { code: 'LINEAGE_FAILED', path: 'task.config.TABLE' } });
  });

  it('infers nothing for a plugin without a resolver, and refuses a task plugin that is not installed', async () => {
    const results = await make().infer([
      request('plain-job', { name: 'plain', config: {} }),
      request('ghost', { name: 'not-installed', config: {} }),
    ]);
    expect(results[0]).toMatchObject({ ok: true, lineage: { destination: null, sources: [], warnings: [] } });
    expect(results[1]).toMatchObject({ ok: false, problem: { code: 'LINEAGE_FAILED', path: 'task.name' } });
  });

  it('reports progress as results arrive', async () => {
    const seen: [number, number][] = [];
    await make().infer(
      [
        request('a', { name: 'plain', config: {} }),
        request('b', { name: 'bq2bq', config: {} }),
        request('c', { name: 'bq-yaml', config: { PROJECT: 'x', TABLE: 'y' } }),
      ],
      { onProgress: (done, total) => seen.push([done, total]) },
    );
    expect(seen).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });

  it('keys a job by its content, its task plugin and the project and namespace config', () => {
    const inf = make();
    const base = request('k', { name: 'bq2bq', config: {} });
    expect(inf.key(base)).toBe(inf.key(request('k', { name: 'bq2bq', config: {} })));
    expect(inf.key({ ...base, hash: 'other' })).not.toBe(inf.key(base));
    expect(inf.key({ ...base, projectConfig: { GCP_PROJECT: 'acme-dev' } })).not.toBe(inf.key(base));
    expect(inf.key({ ...base, namespaceConfig: { X: '1' } })).not.toBe(inf.key(base));
    expect(inf.key(request('k', { name: 'bq-yaml', config: {} }, { hash: base.hash }))).not.toBe(
      inf.key(base),
    );
  });

  it('keys many jobs through a keyer exactly as key does, so keys stored before it stay valid', () => {
    const inf = make();
    const project = { GCP_PROJECT: 'acme', 'quote"d': 'a\\b' };
    const namespace = { Z: '1', A: 'ünïcode' };
    const keyOf = inf.keyer!(project, namespace);
    for (const task of ['bq2bq', 'bq-yaml', 'plain', 'not-installed']) {
      const req = {
        ...request('k', { name: task, config: {} }),
        projectConfig: project,
        namespaceConfig: namespace,
      };
      expect(keyOf(task, req.hash)).toBe(inf.key(req));
      expect(keyOf(task, 'other')).toBe(inf.key({ ...req, hash: 'other' }));
    }
    // The formula every stored key was made with.
    const plugin = registry.current().get('plain')!;
    const { source: _s, ...spec } = plugin.plugin;
    expect(keyOf('plain', 'h1')).toBe(
      contentHash({ hash: 'h1', plugin: { spec: contentHash(spec) }, project, namespace }),
    );
    expect(keyOf('ghost', 'h1')).toBe(
      contentHash({ hash: 'h1', plugin: { missing: 'ghost' }, project, namespace }),
    );
  });
});
