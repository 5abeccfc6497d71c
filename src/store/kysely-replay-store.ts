/**
 * The ReplayStore over Kysely, for PGlite and PostgreSQL alike. A replay is one row: its plan
 * (jobs, items) as JSON written once; the state of each item is its run, found through
 * runs.replay_id. Lock order: the replay's row, then runs (as kysely-run-store.ts takes them).
 */
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { insertRun } from './kysely-run-store.js';
import type {
  ReplayChange,
  ReplayInput,
  ReplayItem,
  ReplayItemState,
  ReplayJob,
  ReplayRecord,
  ReplayStatus,
  ReplayStore,
  ReplaySummary,
} from './replay-store.js';
import type { RunStatus } from './run-store.js';
import type { Database, ReplaysTable } from './schema.js';
import { translate } from './store-errors.js';

type Db = Kysely<Database> | Transaction<Database>;
type ReplayRow = Selectable<ReplaysTable>;

export const DEFAULT_REPLAY_LIMIT = 20;

/**
 * First key of the per-job lock (pg_advisory_xact_lock(int, int)) that createReplay takes; the
 * second is a hash of the project and job. The two-key form never collides with a one-key lock.
 */
const REPLAY_LOCK = 0x7265_706c; // "repl"

/** An item as stored in the `items` column. */
interface StoredItem {
  project: string;
  namespace: string;
  job: string;
  scheduled_at: string;
  window_start: string;
  window_end: string;
  after: number[];
}

const id = (v: number | string | bigint): number => Number(v);

const storedItem = (i: ReplayItem): StoredItem => ({
  project: i.project,
  namespace: i.namespace,
  job: i.job,
  scheduled_at: i.scheduledAt.toISOString(),
  window_start: i.windowStart.toISOString(),
  window_end: i.windowEnd.toISOString(),
  after: i.after,
});

const itemOf = (s: StoredItem): ReplayItem => ({
  project: s.project,
  namespace: s.namespace,
  job: s.job,
  scheduledAt: new Date(s.scheduled_at),
  windowStart: new Date(s.window_start),
  windowEnd: new Date(s.window_end),
  after: s.after,
});

const runKey = (project: string, job: string, at: Date) => `${project}\0${job}\0${at.getTime()}`;

function header(r: Omit<ReplayRow, 'items'>) {
  return {
    id: id(r.id),
    projectName: r.project_name,
    namespaceName: r.namespace_name,
    jobName: r.job_name,
    from: r.range_from,
    to: r.range_to,
    downstream: r.downstream,
    parallel: r.parallel,
    status: r.status as ReplayStatus,
    note: r.note,
    jobs: r.jobs as unknown as ReplayJob[],
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  };
}

/** The replay with each item's run (read in the caller's transaction, so under its lock if it holds one). */
async function withRuns(db: Db, row: ReplayRow): Promise<ReplayRecord> {
  const runs = await db
    .selectFrom('runs')
    .select(['id', 'project_name', 'job_name', 'scheduled_at', 'status'])
    .where('replay_id', '=', id(row.id))
    .execute();
  const byKey = new Map(
    runs.map((r) => [
      runKey(r.project_name, r.job_name, r.scheduled_at),
      { id: id(r.id), status: r.status as RunStatus },
    ]),
  );
  // Read as text and parsed here: PGlite decoding a large jsonb cell costs several times one JSON.parse.
  const stored = (typeof row.items === 'string' ? JSON.parse(row.items) : row.items) as StoredItem[];
  const items = stored.map((s): ReplayItemState => {
    const item = itemOf(s);
    return { ...item, run: byKey.get(runKey(item.project, item.job, item.scheduledAt)) ?? null };
  });
  return { ...header(row), items };
}

/** Summaries of these rows (read without their items), in the rows' order. */
async function summaries(
  db: Db,
  rows: Omit<ReplayRow, 'items'>[],
  counts: number[],
): Promise<ReplaySummary[]> {
  if (rows.length === 0) return [];
  const grouped = await db
    .selectFrom('runs')
    .select((eb) => ['replay_id', 'status', eb.fn.countAll<string>().as('n')])
    .where('replay_id', '=', sql<number>`any(${rows.map((r) => String(r.id))}::bigint[])`)
    .groupBy(['replay_id', 'status'])
    .execute();
  const byReplay = new Map<number, Partial<Record<RunStatus, number>>>();
  for (const g of grouped) {
    const key = id(g.replay_id!);
    const entry = byReplay.get(key) ?? {};
    entry[g.status as RunStatus] = Number(g.n);
    byReplay.set(key, entry);
  }
  return rows.map((r, i) => ({
    ...header(r),
    itemCount: counts[i]!,
    runCounts: byReplay.get(id(r.id)) ?? {},
  }));
}

const SUMMARY_COLUMNS = [
  'id',
  'project_name',
  'namespace_name',
  'job_name',
  'range_from',
  'range_to',
  'downstream',
  'parallel',
  'status',
  'note',
  'jobs',
  'created_at',
  'finished_at',
] as const;

/** A replay's whole row, its items as JSON text (see withRuns). */
const fullRow = (db: Db) =>
  db.selectFrom('replays').select([...SUMMARY_COLUMNS, sql<ReplayRow['items']>`items::text`.as('items')]);

/** `decide` threw: its error goes to the caller as it is, not as a store error. */
class DecideFailed {
  constructor(readonly error: unknown) {}
}

export function createKyselyReplayStore(db: Kysely<Database>, url?: string): ReplayStore {
  const guard = async <T>(subject: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof DecideFailed) throw e.error;
      throw translate(e, subject, url);
    }
  };

  const listSummaries = async (tx: Db, where: (q: ReturnType<typeof base>) => ReturnType<typeof base>) => {
    const rows = await where(base(tx)).execute();
    return summaries(
      tx,
      rows,
      rows.map((r) => Number(r.item_count)),
    );
  };
  const base = (tx: Db) =>
    tx
      .selectFrom('replays')
      .select([...SUMMARY_COLUMNS, sql<string>`jsonb_array_length(items)`.as('item_count')]);

  return {
    createReplay: (input: ReplayInput) =>
      guard(`replay of job "${input.jobName}" of project "${input.projectName}"`, () =>
        db.transaction().execute(async (tx) => {
          // Serialises the check and the insert per root job: a second request waits here for the
          // first's commit, then sees its replay.
          await sql`select pg_advisory_xact_lock(${REPLAY_LOCK}::int, hashtext(${`${input.projectName}/${input.jobName}`}))`.execute(
            tx,
          );
          const [running] = await listSummaries(tx, (q) =>
            q
              .where('project_name', '=', input.projectName)
              .where('job_name', '=', input.jobName)
              .where('status', '=', 'running')
              .where('range_from', '<=', input.to)
              .where('range_to', '>=', input.from)
              .orderBy('id')
              .limit(1),
          );
          if (running) return { running, created: false as const };
          const row = await tx
            .insertInto('replays')
            .values({
              project_name: input.projectName,
              namespace_name: input.namespaceName,
              job_name: input.jobName,
              range_from: input.from,
              range_to: input.to,
              downstream: input.downstream,
              parallel: input.parallel,
              status: 'running',
              note: null,
              jobs: JSON.stringify(input.jobs),
              items: JSON.stringify(input.items.map(storedItem)),
            })
            .returningAll()
            .executeTakeFirstOrThrow();
          const replay: ReplayRecord = {
            ...header(row),
            items: input.items.map((i) => ({ ...i, after: [...i.after], run: null })),
          };
          return { replay, created: true as const };
        }),
      ),

    getReplay: (replayId) =>
      guard(`replay ${replayId}`, async () => {
        const row = await fullRow(db).where('id', '=', replayId).executeTakeFirst();
        return row && withRuns(db, row);
      }),

    listReplays: (projectName, opts = {}) =>
      guard(`replays of project "${projectName}"`, () =>
        listSummaries(db, (q) => {
          let r = q.where('project_name', '=', projectName);
          if (opts.job !== undefined) r = r.where('job_name', '=', opts.job);
          return r.orderBy('id', 'desc').limit(Math.max(0, Math.floor(opts.limit ?? DEFAULT_REPLAY_LIMIT)));
        }),
      ),

    activeReplays: () =>
      guard('running replays', async () =>
        (
          await db.selectFrom('replays').select('id').where('status', '=', 'running').orderBy('id').execute()
        ).map((r) => id(r.id)),
      ),

    updateReplay: (replayId, decide) =>
      guard(`replay ${replayId}`, () =>
        db.transaction().execute(async (tx) => {
          const row = await fullRow(tx).where('id', '=', replayId).forUpdate().executeTakeFirst();
          if (!row) return undefined;
          const replay = await withRuns(tx, row);
          let change: ReplayChange | undefined;
          try {
            change = decide(replay);
          } catch (e) {
            throw new DecideFailed(e);
          }
          if (!change) return replay;
          const set: Partial<{ status: string; note: string | null; finished_at: Date | null }> = {};
          if (change.status !== undefined) set.status = change.status;
          if (change.note !== undefined) set.note = change.note;
          if (change.finishedAt !== undefined) set.finished_at = change.finishedAt;
          if (Object.keys(set).length)
            await tx.updateTable('replays').set(set).where('id', '=', replayId).execute();
          for (const run of change.createRuns ?? []) {
            await insertRun(tx, { ...run, trigger: 'replay', replayId });
          }
          const after = await fullRow(tx).where('id', '=', replayId).executeTakeFirstOrThrow();
          return withRuns(tx, after);
        }),
      ),
  };
}
