// Replays at their size limit (10,000 runs): an hourly job `a` and an hourly job `b` downstream of
// it, over 5,000 hours each, on the embedded store (in memory). (1) Planning: the scheduled times
// and windows of both jobs and the prerequisites (planItems). (2) Storing the plan (createReplay).
// (3) One advance pass over that replay when nothing is ready (what the runner's loop pays each
// poll while a replay waits for a run), against reading the replay alone (getReplay), the pass's
// floor. (4) A pass that creates the runs of 100 ready windows (parallel replay).
// OPTIMUS_DIST points at another build of src/ than ../dist (as in runner.bench.js).
import { pathToFileURL } from 'node:url';

const HOURS = Number(process.env.BENCH_REPLAY_HOURS ?? 5000);
const DIST = process.env.OPTIMUS_DIST
  ? pathToFileURL(`${process.env.OPTIMUS_DIST.replace(/\/$/, '')}/`)
  : new URL('../dist/', import.meta.url);
const load = (path) => import(new URL(path, DIST).href);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timed(f, n = 5) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await f(i);
    times.push(performance.now() - start);
  }
  return median(times);
}

const job = (name) => ({
  projectName: 'bench',
  namespaceName: 'ns',
  name,
  spec: {
    version: 3,
    name,
    owner: 'bench@acme.example',
    schedule: { start_date: '2026-01-01', interval: '0 * * * *' },
    behavior: {},
    task: { name: 'shell', config: {}, window: { size: '1h', truncate_to: 'h' } },
  },
  assets: {},
  hash: `h-${name}`,
  runGraph: [{ name: 'shell', type: 'shell', stage: 'task', depends_on: [] }],
  lineage: null,
  upstreams: [],
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

export async function run() {
  const { jobWindows, planItems, advanceReplay } = await load('services/replay.js');
  const { createStore } = await load('store/create-store.js');
  const from = new Date('2026-01-01T00:00:00Z');
  const to = new Date(from.getTime() + (HOURS - 1) * 3_600_000);
  const [a, b] = [job('a'), job('b')];

  let items;
  const planMs = await timed(() => {
    const planned = [
      {
        job: { project: 'bench', namespace: 'ns', job: 'a' },
        upstreams: [],
        windows: jobWindows(a, null, from, to, 20_000),
      },
      {
        job: { project: 'bench', namespace: 'ns', job: 'b' },
        upstreams: ['bench/a'],
        windows: jobWindows(b, null, from, to, 20_000),
      },
    ];
    items = planItems(planned, true);
  }, 3);

  const store = await createStore({});
  try {
    const input = (k) => ({
      projectName: 'bench',
      namespaceName: 'ns',
      jobName: `a${k}`,
      from,
      to,
      downstream: true,
      parallel: true,
      jobs: [
        { project: 'bench', namespace: 'ns', job: 'a' },
        { project: 'bench', namespace: 'ns', job: 'b' },
      ],
      items,
    });
    let id;
    const storeMs = await timed(async (k) => {
      const made = await store.createReplay(input(k));
      id = made.replay.id;
    }, 3);
    const read = await timed(() => store.getReplay(id));
    // Nothing is ready: every item of `a` waits for a job that is not deployed in this store, so the
    // jobs map is empty and the decision creates nothing; the pass reads the replay and decides.
    const none = { store: { ...store, findJob: async () => undefined } };
    const idle = await timed(() => advanceReplay(none, id, { nodeTimeoutMs: 60_000 }, new Date()));
    // 100 ready windows of `a` (parallel, no prerequisites): a fresh replay of its first 100 hours.
    const jobs = { a, b };
    const hundred = await store.createReplay({
      ...input('h'),
      items: items.filter((i) => i.job === 'a').slice(0, 100),
    });
    const create100 = await timed(
      () =>
        advanceReplay(
          { store: { ...store, findJob: async (_p, name) => jobs[name] } },
          hundred.replay.id,
          { nodeTimeoutMs: 60_000 },
          new Date(),
        ),
      1,
    );
    return {
      name: 'replay',
      rows: [
        { metric: `plan ${items.length} items (2 hourly jobs, ${HOURS} h)`, unit: 'ms', value: planMs },
        { metric: `store a plan of ${items.length} items`, unit: 'ms', value: storeMs },
        { metric: `read a replay of ${items.length} items (getReplay)`, unit: 'ms', value: read },
        { metric: 'advance pass, nothing ready', unit: 'ms', value: idle },
        { metric: 'advance pass / getReplay', unit: 'ratio', value: idle / read },
        { metric: 'advance pass creating 100 runs', unit: 'ms', value: create100 },
      ],
    };
  } finally {
    await store.close();
  }
}
