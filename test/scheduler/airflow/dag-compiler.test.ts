import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunNode } from '../../../src/core/run-graph.js';
import { type DagJob, type DagJobSource, dagPath, POD_ENV } from '../../../src/scheduler/airflow/contract.js';
import {
  airflowSchedule,
  compileDag,
  dagJobOf,
  nodeTaskId,
} from '../../../src/scheduler/airflow/dag-compiler.js';
import { libPy } from '../../../src/scheduler/airflow/lib-py.js';
import { runOptimus } from '../../helpers/cli.js';
import { EXAMPLE, tempDir, v3Plugin } from '../../helpers/temp-project.js';
import {
  GOLDENS,
  HOST,
  projectSources,
  pyCompile,
  type RecordedDag,
  recordDags,
  seeded,
  writeDags,
} from './dag-support.js';

const UPDATE = process.env.UPDATE_GOLDENS === '1';

/** Tasks and edges of a recorded DAG checked against the run graph the CLI printed for the job. */
function expectMatchesRunGraph(
  dag: RecordedDag,
  source: DagJobSource,
  graph: readonly Pick<RunNode, 'name' | 'stage' | 'dependsOn'>[],
) {
  expect(dag.error).toBeUndefined();
  const idOf = new Map(graph.map((n) => [n.name, nodeTaskId(n)]));
  const pods = dag.tasks.filter((t) => t.class === 'OptimusPodOperator');
  // One pod task per node, each naming its node and stage as the run input route takes them.
  expect(pods.map((t) => t.instance_name).sort()).toEqual(graph.map((n) => n.name).sort());
  for (const n of graph) {
    const t = pods.find((p) => p.instance_name === n.name)!;
    expect(t.task_id).toBe(idOf.get(n.name));
    expect(t.instance_type).toBe(n.stage === 'task' ? 'task' : 'hook');
    const afterFail = n.dependsOn.some((d) => graph.find((g) => g.name === d)?.stage === 'fail');
    expect(t.trigger_rule).toBe(
      n.stage !== 'fail' ? 'all_success' : afterFail ? 'none_skipped' : 'one_failed',
    );
    expect(t.env).toEqual({
      [POD_ENV.host]: HOST,
      [POD_ENV.project]: source.project,
      [POD_ENV.job]: source.spec.name,
      [POD_ENV.instanceType]: n.stage === 'task' ? 'task' : 'hook',
      [POD_ENV.instanceName]: n.name,
      [POD_ENV.scheduledAt]: '{{ data_interval_end | ts }}',
    });
  }
  const nodeEdges = graph.flatMap((n) => n.dependsOn.map((d) => [idOf.get(d)!, idOf.get(n.name)!]));
  const sensors = dag.tasks.filter((t) => t.class !== 'OptimusPodOperator').map((t) => t.task_id);
  const firsts = graph.filter((n) => n.dependsOn.length === 0).map((n) => idOf.get(n.name)!);
  const sensorEdges = sensors.flatMap((s) => firsts.map((f) => [s, f]));
  expect(dag.edges).toEqual([...nodeEdges, ...sensorEdges].sort(compareEdge));
  // One sensor per upstream job and per http dependency, and nothing else.
  const ups = new Set(source.upstreams.map((u) => `${u.project}/${u.job}`));
  expect(dag.tasks.filter((t) => t.class === 'OptimusUpstreamSensor').length).toBe(ups.size);
  const http = (source.spec.dependencies ?? []).filter((d) => d.http);
  expect(dag.tasks.filter((t) => t.class === 'OptimusHttpSensor').length).toBe(http.length);
}

const compareEdge = (a: string[], b: string[]) =>
  a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : a[1]! < b[1]! ? -1 : a[1]! > b[1]! ? 1 : 0;

describe('DAGs of the example project', () => {
  const sources = projectSources(EXAMPLE);

  it('compile, pass py_compile, and build in Airflow exactly the run graph `optimus job graph --json` prints', () => {
    const root = tempDir();
    const { dagsDir, files } = writeDags(root, sources);
    expect(pyCompile(tempDir(), [join(dagsDir, '__lib.py'), ...files.values()])).toEqual([]);
    const recorded = recordDags(dagsDir, [...files.values()]);
    expect(sources.length).toBe(5);
    for (const source of sources) {
      const r = runOptimus(['job', 'graph', source.spec.name, '--dir', EXAMPLE, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const graph = (r.json().nodes as { name: string; stage: RunNode['stage']; depends_on: string[] }[]).map(
        (n) => ({ name: n.name, stage: n.stage, dependsOn: n.depends_on }),
      );
      expectMatchesRunGraph(recorded.get(files.get(source.spec.name)!)!, source, graph);
    }
  });

  it('puts the schedule, retries, owner and labels of the job into the DAG', () => {
    const root = tempDir();
    const { dagsDir, files } = writeDags(root, sources);
    const dag = recordDags(dagsDir, [files.get('revenue-daily')!]).get(files.get('revenue-daily')!)!;
    expect(dag.dag).toMatchObject({
      dag_id: 'revenue-daily',
      schedule: '30 4 * * *',
      start_date: { datetime: '2026-01-01T00:00:00+00:00' },
      catchup: false,
      tags: ['team=finance'],
    });
    expect(dag.doc).toBe('Revenue per product line; publishes only after the team was told');
    expect(dag.tasks[0]!.args).toMatchObject({
      owner: 'finance-data@acme.example',
      retries: 3,
      retry_delay: { timedelta_seconds: 600 },
      retry_exponential_backoff: false,
      depends_on_past: false,
    });
    expect(dag.tasks.find((t) => t.task_id === 'warehouse-load')!.pod_args).toMatchObject({
      image: expect.stringMatching(/^localhost:5000\/optimus\/warehouse-load:1\.2\.0-[0-9a-f]{8}$/),
    });
  });

  it('matches the golden files byte for byte (UPDATE_GOLDENS=1 rewrites them)', () => {
    const golden: [string, string][] = [
      ...sources.map(
        (s) =>
          [dagPath(s.namespace, s.spec.name), compileDag(dagJobOf(s), { optimusHost: HOST })] as [
            string,
            string,
          ],
      ),
      ['dags/every-field/every-field.py', compileDag(EVERY_FIELD, { optimusHost: HOST })],
      ['dags/__lib.py', libPy()],
    ];
    for (const [rel, text] of golden) {
      const file = join(GOLDENS, rel.replace(/^dags\//, ''));
      if (UPDATE) {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
      }
      expect(
        existsSync(file),
        `${file} is missing: run UPDATE_GOLDENS=1 npx vitest run ${import.meta.filename}`,
      ).toBe(true);
      expect(text, `${rel} differs from its golden file`).toBe(readFileSync(file, 'utf8'));
    }
  });

  it('never writes a secret, a token or a config value into a DAG, even when the job holds them', () => {
    const withSecrets = sources.map((s) => ({
      ...s,
      spec: {
        ...s.spec,
        task: {
          ...s.spec.task,
          config: {
            ...s.spec.task.config,
            WH_TOKEN: 'literal-s3cret-value',
            API_KEY: '{{ .secret.API_KEY }}',
          },
        },
      },
    }));
    for (const s of withSecrets) {
      const text = compileDag(dagJobOf(s), { optimusHost: HOST });
      expect(text).not.toContain('literal-s3cret-value');
      expect(text).not.toContain('.secret.');
      expect(text).not.toContain('acme-dw'); // the task's PROJECT config: configs reach pods only as run input
      expect(text).not.toMatch(/optimus-pod\.|Bearer|OPTIMUS_POD_TOKEN/);
    }
  });

  it('gives the same bytes for the same job, whatever order its labels, upstreams and http dependencies come in', () => {
    const a = { ...EVERY_FIELD };
    const b: DagJob = {
      ...EVERY_FIELD,
      labels: Object.fromEntries(Object.entries(EVERY_FIELD.labels).reverse()),
      upstreams: [...EVERY_FIELD.upstreams].reverse(),
      http: [...EVERY_FIELD.http].reverse(),
    };
    expect(compileDag(b, { optimusHost: HOST })).toBe(compileDag(a, { optimusHost: HOST }));
    const sourcesAgain = projectSources(EXAMPLE);
    expect(sourcesAgain.map((s) => compileDag(dagJobOf(s), { optimusHost: HOST }))).toEqual(
      sources.map((s) => compileDag(dagJobOf(s), { optimusHost: HOST })),
    );
  });
});

/** A job using every field, with text that would break a naive Python literal. */
const EVERY_FIELD: DagJob = {
  project: 'proj',
  namespace: 'every-field',
  name: 'every-field',
  owner: 'o"wner\\@x',
  description: 'Line one "quoted" \'single\'\nline two \\ back\tslash, non-ASCII: é 雪 😀 """ end',
  startDate: '2026-01-01',
  endDate: '2026-12-31',
  interval: '0 3 * * *',
  dependsOnPast: true,
  catchUp: true,
  retry: { count: 4, delaySeconds: 90, exponentialBackoff: true },
  slaSeconds: 7200,
  timeoutSeconds: 2700,
  labels: { team: 'data "eng"', tier: '1\n2', 'z-key': 'x'.repeat(150) },
  pool: 'etl-pool',
  queue: 'k8s',
  resources: { request: { cpu: '250m', memory: '512Mi' }, limit: { cpu: '1', memory: '1Gi' } },
  serviceAccount: 'optimus-runner',
  nodes: [
    { name: 'pre.check', type: 'audit', stage: 'pre', dependsOn: [], image: 'reg/audit:1-aaaaaaaa' },
    { name: 'load', type: 'load', stage: 'task', dependsOn: ['pre.check'], image: 'reg/load:2-bbbbbbbb' },
    { name: 'notify_me', type: 'notify', stage: 'post', dependsOn: ['load'], image: 'reg/notify:3-cccccccc' },
    {
      name: 'page "on-call"',
      type: 'notify',
      stage: 'fail',
      dependsOn: ['load'],
      image: 'reg/notify:3-cccccccc',
    },
    {
      name: 'após-falha',
      type: 'notify',
      stage: 'fail',
      dependsOn: ['load', 'page "on-call"'],
      image: 'reg/notify:3-cccccccc',
    },
  ],
  upstreams: [
    { project: 'proj', namespace: 'a', job: 'upstream-one' },
    { project: 'other', namespace: 'b', job: 'upstream.two' },
  ],
  http: [
    {
      name: 'partner-feed',
      url: 'https://partner.example/ready?day="x"',
      headers: { 'X-Team': "d'ata" },
      params: { day: '{{ ds }}' },
    },
    { name: 'bucket', url: 'https://storage.example/ready', headers: {}, params: {} },
  ],
};

describe('a DAG with every field', () => {
  it('builds in Airflow with its settings, trigger rules and sensors, its text intact', () => {
    const root = tempDir();
    const file = join(root, 'dags', 'every-field', 'every-field.py');
    writeDags(root, []);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, compileDag(EVERY_FIELD, { optimusHost: HOST }), { flag: 'w' });
    expect(pyCompile(tempDir(), [file])).toEqual([]);
    const dag = recordDags(join(root, 'dags'), [file]).get(file)!;
    expectMatchesRunGraph(
      dag,
      {
        project: 'proj',
        spec: { name: 'every-field', dependencies: EVERY_FIELD.http.map((h) => ({ http: h })) },
        upstreams: EVERY_FIELD.upstreams,
      } as unknown as DagJobSource,
      EVERY_FIELD.nodes,
    );
    expect(dag.doc).toBe(EVERY_FIELD.description);
    expect(dag.dag).toMatchObject({
      description: EVERY_FIELD.description,
      catchup: true,
      end_date: { datetime: '2026-12-31T00:00:00+00:00' },
      tags: ['team=data "eng"', 'tier=1\n2', `z-key=${'x'.repeat(94)}`],
    });
    const load = dag.tasks.find((t) => t.task_id === 'load')!;
    expect(load.args).toMatchObject({
      owner: 'o"wner\\@x',
      depends_on_past: true,
      retries: 4,
      retry_delay: { timedelta_seconds: 90 },
      retry_exponential_backoff: true,
      sla: { timedelta_seconds: 7200 },
      pool: 'etl-pool',
      queue: 'k8s',
      execution_timeout: { timedelta_seconds: 2700 },
    });
    // A sensor waits as long as its upstream takes: the attempt timeout is the pods' only.
    const sensor = dag.tasks.find((t) => t.class === 'OptimusUpstreamSensor')!;
    expect(sensor.args).not.toHaveProperty('execution_timeout');
    expect(load.pod_args).toMatchObject({
      image: 'reg/load:2-bbbbbbbb',
      service_account_name: 'optimus-runner',
      container_resources: {
        requests: { cpu: '250m', memory: '512Mi' },
        limits: { cpu: '1', memory: '1Gi' },
      },
    });
    const failAfterFail = dag.tasks.find((t) => t.instance_name === 'após-falha')!;
    expect(failAfterFail.trigger_rule).toBe('none_skipped');
    const wait = dag.tasks.filter((t) => t.class === 'OptimusUpstreamSensor');
    expect(wait.map((t) => [t.task_id, t.upstream, t.instance_name, t.mode])).toEqual([
      [
        'wait.other.upstream_x2e_two',
        { project: 'other', namespace: 'b', job: 'upstream.two' },
        'load',
        'reschedule',
      ],
      [
        'wait.proj.upstream-one',
        { project: 'proj', namespace: 'a', job: 'upstream-one' },
        'load',
        'reschedule',
      ],
    ]);
    const http = dag.tasks.filter((t) => t.class === 'OptimusHttpSensor');
    expect(http.map((t) => [t.task_id, t.url, t.headers, t.params])).toEqual([
      ['http.bucket', 'https://storage.example/ready', {}, {}],
      [
        'http.partner-feed',
        'https://partner.example/ready?day="x"',
        { 'X-Team': "d'ata" },
        { day: '{{ ds }}' },
      ],
    ]);
    // The file itself is plain ASCII: its bytes do not depend on an encoding.
    expect(/^[\x09\x0a\x20-\x7e]*$/.test(compileDag(EVERY_FIELD, { optimusHost: HOST }))).toBe(true);
  });

  it('gives hooks whose names differ only in punctuation different task ids and variables', () => {
    const names = ['a-b', 'a_b', 'a.b', 'a__b', 'a_x2d_b', 'a b', 'A-b'];
    const job: DagJob = {
      ...EVERY_FIELD,
      upstreams: [],
      http: [],
      nodes: [
        { name: 't', type: 't', stage: 'task', dependsOn: [], image: 'i' },
        ...names.map((name) => ({ name, type: 'h', stage: 'post' as const, dependsOn: ['t'], image: 'i' })),
      ],
    };
    const root = tempDir();
    const file = join(root, 'dags', 'x', 'x.py');
    writeDags(root, []);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, compileDag(job, { optimusHost: HOST }));
    const dag = recordDags(join(root, 'dags'), [file]).get(file)!;
    expect(dag.error).toBeUndefined();
    expect(new Set(dag.tasks.map((t) => t.task_id)).size).toBe(names.length + 1);
    expect(dag.edges.length).toBe(names.length);
  });
});

describe('200 generated jobs', () => {
  it('each build in Airflow exactly their run graph, with a sensor per upstream and http dependency', () => {
    const { dir, count } = generatedProject(200, 20260101);
    const sources = projectSources(dir);
    expect(sources.length).toBe(count);
    const root = tempDir();
    const { dagsDir, files } = writeDags(root, sources);
    expect(pyCompile(tempDir(), [...files.values()])).toEqual([]);
    const recorded = recordDags(dagsDir, [...files.values()]);
    let fail = 0;
    let sensors = 0;
    for (const s of sources) {
      const dag = recorded.get(files.get(s.spec.name)!)!;
      expectMatchesRunGraph(dag, s, s.nodes);
      fail += s.nodes.filter((n) => n.stage === 'fail').length;
      sensors += dag.tasks.length - s.nodes.length;
    }
    // The generator exercised what it is meant to (fail hooks, sensors).
    expect(fail).toBeGreaterThan(50);
    expect(sensors).toBeGreaterThan(100);
    // The run graphs compared above are the CLI's: spot-check a few against `optimus job graph --json`.
    for (const s of sources.filter((x) => x.nodes.length > 4).slice(0, 3)) {
      const r = runOptimus(['job', 'graph', s.spec.name, '--dir', dir, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json().nodes).toEqual(
        s.nodes.map((n) => ({ name: n.name, type: n.type, stage: n.stage, depends_on: n.dependsOn })),
      );
    }
  });
});

const HOOK_NAMES = [
  'audit',
  'notify-team',
  'publish.event',
  'page_oncall',
  'check',
  'clean-up',
  'x.y-z',
  'report',
];

/** A project of `n` seeded random jobs: hooks in every stage with depends_on, upstream jobs, http deps. */
function generatedProject(n: number, seed: number): { dir: string; count: number } {
  const rnd = seeded(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const files: Record<string, string> = {
    'optimus.yaml': `version: 1
project: {name: gen}
namespaces:
  - {name: ns-a, job: {path: a}}
  - {name: ns-b, job: {path: b}}
plugins:
  install_location: plugins
  dependencies:
    - "check >> audit"
`,
  };
  for (const p of ['load', 'transform', 'audit-plugin', 'notify-plugin'])
    files[`plugins/optimus-plugin-${p}.yaml`] = v3Plugin(p);
  for (let i = 0; i < n; i++) {
    const name = `job-${String(i).padStart(3, '0')}`;
    const hooks: Record<string, unknown>[] = [];
    const stages: Record<string, string> = {};
    const count = Math.floor(rnd() * 6);
    const names = [...HOOK_NAMES].sort(() => rnd() - 0.5).slice(0, count);
    for (const h of names) {
      // `check` runs before the task, so the project rule `check >> audit` never closes a cycle.
      const stage = h === 'check' ? 'pre' : pick(['pre', 'post', 'post', 'fail', 'fail'] as const);
      const allowed = Object.keys(stages).filter((d) =>
        stage === 'pre'
          ? stages[d] === 'pre'
          : stage === 'post'
            ? stages[d] !== 'fail'
            : stages[d] !== 'post',
      );
      const hook: Record<string, unknown> = {
        name: h,
        type: pick(['audit-plugin', 'notify-plugin']),
        stage,
        config: {},
      };
      if (allowed.length && rnd() < 0.6) hook.depends_on = allowed.filter(() => rnd() < 0.6);
      stages[h] = stage;
      hooks.push(hook);
    }
    const deps: Record<string, unknown>[] = [];
    for (let u = 0; u < 3 && i > 0; u++)
      if (rnd() < 0.4) deps.push({ job: `job-${String(Math.floor(rnd() * i)).padStart(3, '0')}` });
    if (rnd() < 0.3)
      deps.push({
        http: {
          name: `feed-${i}`,
          url: `https://feeds.example/${i}?q="a b"`,
          headers: { 'X-A': 'v\'"' },
          params: { d: '{{ ds }}' },
        },
      });
    const job = {
      version: 3,
      name,
      owner: `owner-${i}@example.com`,
      description: `generated job ${i}: "quotes", \\backslash\\ and é`,
      schedule: { start_date: '2026-01-01', interval: pick(['0 3 * * *', '@daily', '15 * * * *']) },
      behavior: {
        retry: { count: Math.floor(rnd() * 4), delay: pick(['30s', '5m', '1h']) },
        catch_up: rnd() < 0.5,
      },
      task: {
        name: pick(['load', 'transform']),
        config: { SECRET_KEY: '{{ .secret.K }}' },
        window: { size: '1d' },
      },
      hooks,
      dependencies: deps,
      labels: { gen: String(i % 7) },
    };
    files[`${i % 2 ? 'b' : 'a'}/${name}/job.yaml`] = JSON.stringify(job, null, 1);
  }
  return { dir: tempDir(files), count: n };
}

describe('dagJobOf', () => {
  const plugin = (name: string, versions: Record<string, string>) =>
    ({
      name,
      versions: Object.fromEntries(
        Object.entries(versions).map(([v, tag]) => [
          v,
          { image: `acme/${name}`, tag, entrypoint: { shell: 'sh', script: 'run' } },
        ]),
      ),
    }) as unknown as import('../../../src/core/plugin.js').Plugin;
  const plugins = new Map([
    ['load', plugin('load', { default: '1.0.0', next: '2.0.0' })],
    ['notify', plugin('notify', { default: '3.0.0' })],
  ]);
  const source = (over: Record<string, unknown> = {}): DagJobSource =>
    ({
      project: 'p',
      namespace: 'n',
      spec: {
        version: 3,
        name: 'j',
        owner: 'me',
        schedule: { start_date: '2026-01-01', end_date: '2026-06-30', interval: '@daily' },
        behavior: {
          depends_on_past: true,
          catch_up: true,
          retry: { count: 2, delay: '1m30s', exponential_backoff: true },
          timeout: '1h30m',
          notify: [
            { on: 'sla_miss', config: { duration: '2h' } },
            { on: 'sla_miss', config: { duration: '45m' } },
            { on: 'failure', config: { duration: '1m' } },
          ],
        },
        task: { name: 'load', version: 'next', config: {} },
        hooks: [{ name: 'tell', type: 'notify', config: {} }],
        dependencies: [{ job: 'up' }, { http: { name: 'h', url: 'https://x' } }],
        labels: { a: 'b' },
        metadata: {
          resource: { request: { cpu: '1', memory: '1Gi' } },
          airflow: { pool: 'pl', queue: 'q' },
          kubernetes: { service_account: 'sa' },
        },
        assets: {},
        ...over,
      },
      nodes: [
        { name: 'load', type: 'load', stage: 'task', dependsOn: [] },
        { name: 'tell', type: 'notify', stage: 'post', dependsOn: ['load'] },
      ],
      plugins,
      images: { baseImage: 'base:1', registry: 'reg.example/optimus' },
      upstreams: [
        { project: 'p', namespace: 'n', job: 'up' },
        { project: 'p', namespace: 'n', job: 'up' },
      ],
    }) as DagJobSource;

  it('maps the job’s schedule, behavior, metadata and dependencies, and runs each node on its version’s wrapper image', () => {
    const job = dagJobOf(source());
    expect(job).toMatchObject({
      startDate: '2026-01-01',
      endDate: '2026-06-30',
      interval: '@daily',
      dependsOnPast: true,
      catchUp: true,
      retry: { count: 2, delaySeconds: 90, exponentialBackoff: true },
      slaSeconds: 2700,
      timeoutSeconds: 5400,
      pool: 'pl',
      queue: 'q',
      serviceAccount: 'sa',
      resources: { request: { cpu: '1', memory: '1Gi' } },
      upstreams: [{ project: 'p', namespace: 'n', job: 'up' }],
      http: [{ name: 'h', url: 'https://x', headers: {}, params: {} }],
      labels: { a: 'b' },
    });
    expect(job.nodes.map((n) => n.image)).toEqual([
      expect.stringMatching(/^reg\.example\/optimus\/load:2\.0\.0-[0-9a-f]{8}$/),
      expect.stringMatching(/^reg\.example\/optimus\/notify:3\.0\.0-[0-9a-f]{8}$/),
    ]);
  });

  it('leaves a job without retry, SLA or metadata at the embedded runner’s defaults', () => {
    const job = dagJobOf(source({ behavior: {}, metadata: {}, schedule: { start_date: '2026-01-01' } }));
    expect(job.retry).toEqual({ count: 0, delaySeconds: 0, exponentialBackoff: false });
    expect(job.interval).toBeNull();
    for (const k of [
      'slaSeconds',
      'timeoutSeconds',
      'pool',
      'queue',
      'serviceAccount',
      'resources',
      'endDate',
    ] as const)
      expect(job[k]).toBeUndefined();
    expect(compileDag(job, { optimusHost: HOST })).toContain('    schedule=None,\n');
  });

  it('refuses a node whose plugin version is not installed, naming the versions there are', () => {
    expect(() => dagJobOf(source({ task: { name: 'load', version: 'v9', config: {} } }))).toThrow(
      expect.objectContaining({ code: 'PLUGIN_VERSION_UNKNOWN', hint: 'versions installed: default, next' }),
    );
  });
});

describe('schedules', () => {
  it('writes every interval Optimus accepts in a form Airflow knows, meaning the same schedule', () => {
    expect(
      [
        '@daily',
        '@DAILY',
        '@midnight',
        '@annually',
        '@Yearly',
        '@once',
        '@hourly',
        '0 3 * * *',
        ' 0  3 ? * MON ',
      ].map(airflowSchedule),
    ).toEqual([
      '@daily',
      '@daily',
      '@daily',
      '@yearly',
      '@yearly',
      '@once',
      '@hourly',
      '0 3 * * *',
      '0 3 * * MON',
    ]);
  });
});
