/**
 * The RunStore over Kysely, for PGlite and PostgreSQL alike. Every transition is one statement or
 * one transaction; times that decide who may run what (claims, leases) come from the database's
 * `now()`, so servers whose clocks disagree still agree on whether a lease has expired.
 *
 * Lock order, everywhere: runs' rows (by id), then nodes' rows (by run id and run-graph order),
 * each statement that locks several rows asking for them in that order (a plain UPDATE locks in
 * whatever order it finds rows, which deadlocked a lease renewal against a run update).
 * `claimNodes` never waits for a lock (SKIP LOCKED), so it cannot take part in a deadlock.
 */
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { OptimusError } from '../core/errors.js';
import type { NodeStage } from '../core/run-graph.js';
import type {
  AttemptChange,
  AttemptStatus,
  LogLineRecord,
  LogStream,
  NodeAttemptRecord,
  NodeChange,
  NodeStatus,
  RunAtTime,
  RunChange,
  RunInputRecord,
  RunNodeRecord,
  RunRecord,
  RunSettings,
  RunStatus,
  RunStore,
  RunTrigger,
} from './run-store.js';
import type { Database, RunAttemptsTable, RunLogsTable, RunNodesTable, RunsTable } from './schema.js';
import { translate } from './store-errors.js';

type Db = Kysely<Database> | Transaction<Database>;
type RunRow = Selectable<RunsTable>;
type NodeRow = Selectable<RunNodesTable>;

/** listRuns without a limit: a page, not a job's whole history. */
export const DEFAULT_RUN_LIMIT = 100;
export const DEFAULT_LOG_LIMIT = 1000;
export const MAX_LOG_LIMIT = 10_000;
/** Log lines per insert: bounds one statement's parameters when lines are long. */
const LOG_CHUNK = 5000;

const id = (v: number | string | bigint): number => Number(v);

const toNode = (r: NodeRow): RunNodeRecord => ({
  runId: id(r.run_id),
  name: r.name,
  type: r.type,
  stage: r.stage as NodeStage,
  dependsOn: r.depends_on,
  status: r.status as NodeStatus,
  attempt: r.attempt,
  attemptsBefore: r.attempts_before,
  notBefore: r.not_before,
  leaseOwner: r.lease_owner,
  leaseExpiresAt: r.lease_expires_at,
  handle: r.handle,
  cancelRequested: r.cancel_requested,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  exitCode: r.exit_code,
  error: r.error,
});

const toRun = (r: RunRow, nodes: RunNodeRecord[]): RunRecord => ({
  id: id(r.id),
  projectName: r.project_name,
  namespaceName: r.namespace_name,
  jobName: r.job_name,
  scheduledAt: r.scheduled_at,
  trigger: r.trigger as RunTrigger,
  replayId: r.replay_id === null ? null : id(r.replay_id),
  status: r.status as RunStatus,
  jobHash: r.job_hash,
  settings: r.settings as unknown as RunSettings,
  note: r.note,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  nodes,
});

const toAttempt = (r: Selectable<RunAttemptsTable>): NodeAttemptRecord => ({
  runId: id(r.run_id),
  node: r.node,
  attempt: r.attempt,
  status: r.status as AttemptStatus,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  exitCode: r.exit_code,
  error: r.error,
});

const toLog = (r: Selectable<RunLogsTable>): LogLineRecord => ({
  id: id(r.id),
  runId: id(r.run_id),
  node: r.node,
  attempt: r.attempt,
  stream: r.stream as LogStream,
  at: r.at,
  line: r.line,
});

/** The runs of these rows with their nodes (in run-graph order), in the rows' order. */
async function withNodes(db: Db, rows: RunRow[]): Promise<RunRecord[]> {
  if (rows.length === 0) return [];
  const nodes = await db
    .selectFrom('run_nodes')
    .selectAll()
    .where('run_id', '=', sql<number>`any(${rows.map((r) => String(r.id))}::bigint[])`)
    .orderBy('run_id')
    .orderBy('ordinal')
    .execute();
  const byRun = new Map<number, RunNodeRecord[]>();
  for (const n of nodes) {
    const list = byRun.get(id(n.run_id));
    if (list) list.push(toNode(n));
    else byRun.set(id(n.run_id), [toNode(n)]);
  }
  return rows.map((r) => toRun(r, byRun.get(id(r.id)) ?? []));
}

async function readRun(db: Db, runId: number): Promise<RunRecord | undefined> {
  const row = await db.selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst();
  return row && (await withNodes(db, [row]))[0];
}

/** The columns a node change sets: only the fields it names. */
function nodeColumns(c: NodeChange) {
  const set: Partial<{
    status: string;
    attempt: number;
    attempts_before: number;
    not_before: Date | null;
    lease_owner: string | null;
    lease_expires_at: Date | null;
    handle: string | null;
    cancel_requested: boolean;
    started_at: Date | null;
    finished_at: Date | null;
    exit_code: number | null;
    error: string | null;
  }> = {};
  if (c.status !== undefined) set.status = c.status;
  if (c.attempt !== undefined) set.attempt = c.attempt;
  if (c.attemptsBefore !== undefined) set.attempts_before = c.attemptsBefore;
  if (c.notBefore !== undefined) set.not_before = c.notBefore;
  if (c.leaseOwner !== undefined) set.lease_owner = c.leaseOwner;
  if (c.leaseExpiresAt !== undefined) set.lease_expires_at = c.leaseExpiresAt;
  // A null handle is SQL null, not the JSON value null: "no handle" reads back as null either way.
  if (c.handle !== undefined) set.handle = c.handle === null ? null : JSON.stringify(c.handle);
  if (c.cancelRequested !== undefined) set.cancel_requested = c.cancelRequested;
  if (c.startedAt !== undefined) set.started_at = c.startedAt;
  if (c.finishedAt !== undefined) set.finished_at = c.finishedAt;
  if (c.exitCode !== undefined) set.exit_code = c.exitCode;
  if (c.error !== undefined) set.error = c.error;
  return set;
}

function runColumns(c: RunChange) {
  const set: Partial<{
    status: string;
    note: string | null;
    started_at: Date | null;
    finished_at: Date | null;
  }> = {};
  if (c.status !== undefined) set.status = c.status;
  if (c.note !== undefined) set.note = c.note;
  if (c.startedAt !== undefined) set.started_at = c.startedAt;
  if (c.finishedAt !== undefined) set.finished_at = c.finishedAt;
  return set;
}

/** `run` after `change`, as reading it back would give it. */
function applied(run: RunRecord, change: RunChange): RunRecord {
  const byName = new Map((change.nodes ?? []).map((c) => [c.name, c]));
  const defined = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return {
    ...run,
    ...defined({
      status: change.status,
      note: change.note,
      startedAt: change.startedAt,
      finishedAt: change.finishedAt,
    }),
    nodes: run.nodes.map((n) => {
      const c = byName.get(n.name);
      if (!c) return n;
      const { name: _, handle, ...rest } = c;
      return {
        ...n,
        ...defined(rest),
        // What jsonb gives back: a plain JSON copy.
        ...(handle !== undefined
          ? { handle: handle === null ? null : JSON.parse(JSON.stringify(handle)) }
          : {}),
      };
    }),
  };
}

/**
 * Cancel the queued and running runs of these jobs, inside the caller's transaction (a deploy or a
 * job delete cancels in the same transaction that removes the job). Runs are locked in id order so
 * that two cancellations of overlapping jobs cannot deadlock.
 */
export async function cancelRunsOfJobs(
  db: Db,
  projectName: string,
  jobNames: readonly string[],
  note: string,
): Promise<number[]> {
  if (jobNames.length === 0) return [];
  const { rows } = await sql<{ id: number | string }>`
    with doomed as (
      select id from runs
      where project_name = ${projectName} and job_name = any(${[...jobNames]}::text[])
        and status in ('queued', 'running')
      order by id
      for update
    )
    update runs r set status = 'cancelled', note = ${note}, finished_at = now()
    from doomed where r.id = doomed.id
    returning r.id`.execute(db);
  const ids = rows.map((r) => id(r.id)).sort((a, b) => a - b);
  if (ids.length === 0) return ids;
  // Waiting nodes end now; a running node is stopped by the server holding its lease, which
  // learns of it when it renews the lease.
  await sql`
    with locked as (
      select run_id, name from run_nodes
      where run_id = any(${ids.map(String)}::bigint[]) and status in ('pending', 'queued', 'running')
      order by run_id, ordinal
      for update
    )
    update run_nodes n set
      status = case when n.status = 'running' then n.status else 'cancelled' end,
      finished_at = case when n.status = 'running' then n.finished_at else now() end,
      cancel_requested = n.cancel_requested or n.status = 'running'
    from locked where n.run_id = locked.run_id and n.name = locked.name`.execute(db);
  return ids;
}

/**
 * Creates the run and its nodes unless that run exists (see RunStore.createRun), in the caller's
 * transaction or on its own: a replay creates its runs in the transaction that holds its lock.
 */
export async function insertRun(
  db: Db,
  input: RunInputRecord,
): Promise<{ run: RunRecord; created: boolean }> {
  // One statement inserts the run and its nodes (atomic without a transaction, and one round
  // trip). The unique keys decide, not a read: of two servers creating the same run, the second
  // waits for the first's commit and then inserts nothing. No conflict target: the key is
  // (project, job, time) for scheduled and manual runs and (replay, project, job, time) for a
  // replay's, two partial unique indexes.
  const replayId = input.replayId ?? null;
  const col = <T>(f: (n: RunInputRecord['nodes'][number]) => T) => input.nodes.map(f);
  const { rows } = await sql<RunRow>`
    with r as (
      insert into runs (project_name, namespace_name, job_name, scheduled_at, trigger, status, job_hash, settings, replay_id)
      values (${input.projectName}, ${input.namespaceName}, ${input.jobName}, ${input.scheduledAt},
        ${input.trigger}, 'queued', ${input.jobHash}, ${JSON.stringify(input.settings)}::jsonb,
        ${replayId === null ? null : String(replayId)}::bigint)
      on conflict do nothing
      returning *
    ), n as (
      insert into run_nodes (run_id, name, type, stage, depends_on, ordinal, status)
      select r.id, u.name, u.type, u.stage, u.deps::jsonb, u.ord - 1, 'pending'
      from r, unnest(
        ${col((n) => n.name)}::text[], ${col((n) => n.type)}::text[], ${col((n) => n.stage)}::text[],
        ${col((n) => JSON.stringify(n.dependsOn))}::text[]
      ) with ordinality as u(name, type, stage, deps, ord)
    )
    select * from r`.execute(db);
  const row = rows[0];
  if (row) {
    const nodes = input.nodes.map(
      (n): RunNodeRecord => ({
        runId: id(row.id),
        name: n.name,
        type: n.type,
        stage: n.stage,
        dependsOn: [...n.dependsOn],
        status: 'pending',
        attempt: 0,
        attemptsBefore: 0,
        notBefore: null,
        leaseOwner: null,
        leaseExpiresAt: null,
        handle: null,
        cancelRequested: false,
        startedAt: null,
        finishedAt: null,
        exitCode: null,
        error: null,
      }),
    );
    return { run: toRun(row, nodes), created: true };
  }
  let q = db
    .selectFrom('runs')
    .selectAll()
    .where('project_name', '=', input.projectName)
    .where('job_name', '=', input.jobName)
    .where('scheduled_at', '=', input.scheduledAt);
  q = replayId === null ? q.where('replay_id', 'is', null) : q.where('replay_id', '=', replayId);
  const existing = await q.executeTakeFirstOrThrow();
  return { run: (await withNodes(db, [existing]))[0]!, created: false };
}

/** Records how attempts ended (or removes those given back), inside the transition's transaction. */
async function applyAttempts(db: Db, runId: number, changes: readonly AttemptChange[]): Promise<void> {
  for (const c of changes) {
    if (c.kind === 'released') {
      await db
        .deleteFrom('run_attempts')
        .where('run_id', '=', runId)
        .where('node', '=', c.node)
        .where('attempt', '=', c.attempt)
        .execute();
      continue;
    }
    const row = {
      status: c.status,
      started_at: c.startedAt,
      finished_at: c.finishedAt,
      exit_code: c.exitCode,
      error: c.error,
    };
    // Its start is recorded by the claim; an attempt that began before the store knew attempts
    // (or whose row was lost) still gets its end.
    await db
      .insertInto('run_attempts')
      .values({ run_id: runId, node: c.node, attempt: c.attempt, ...row })
      .onConflict((oc) =>
        oc.columns(['run_id', 'node', 'attempt']).doUpdateSet({
          status: row.status,
          finished_at: row.finished_at,
          exit_code: row.exit_code,
          error: row.error,
        }),
      )
      .execute();
  }
}

/** `decide` threw: its error goes to the caller as it is, not as a store error. */
class DecideFailed {
  constructor(readonly error: unknown) {}
}

/** PostgreSQL text cannot hold NUL: a process printing one must not lose the whole batch of lines. */
const storable = (line: string) => (line.includes('\0') ? line.replaceAll('\0', '\uFFFD') : line);

/** The run methods of the store (`findJob` is with the other job queries in kysely-store.ts). */
export function createKyselyRunStore(db: Kysely<Database>, url?: string): Omit<RunStore, 'findJob'> {
  const guard = async <T>(subject: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof DecideFailed) throw e.error;
      throw translate(e, subject, url);
    }
  };

  return {
    createRun: (input) =>
      guard(`run of job "${input.jobName}" of project "${input.projectName}"`, () => insertRun(db, input)),

    getRun: (runId) => guard(`run ${runId}`, () => readRun(db, runId)),

    listRuns: (projectName, jobName, opts = {}) =>
      guard(`runs of job "${jobName}" of project "${projectName}"`, async () => {
        let q = db
          .selectFrom('runs')
          .selectAll()
          .where('project_name', '=', projectName)
          .where('job_name', '=', jobName);
        if (opts.before) q = q.where('scheduled_at', '<', opts.before);
        const rows = await q
          .orderBy('scheduled_at', 'desc')
          .limit(Math.max(0, Math.floor(opts.limit ?? DEFAULT_RUN_LIMIT)))
          .execute();
        return withNodes(db, rows);
      }),

    recentRuns: (query) =>
      guard('recent runs', async () => {
        let q = db.selectFrom('runs').selectAll();
        if (query.project !== undefined) q = q.where('project_name', '=', query.project);
        if (query.namespace !== undefined) q = q.where('namespace_name', '=', query.namespace);
        if (query.job !== undefined) q = q.where('job_name', '=', query.job);
        if (query.status !== undefined) q = q.where('status', '=', query.status);
        const before = query.before;
        if (before) {
          q =
            before.id === undefined
              ? q.where('scheduled_at', '<', before.scheduledAt)
              : q.where(
                  sql<boolean>`(scheduled_at, id) < (${before.scheduledAt}::timestamptz, ${String(before.id)}::bigint)`,
                );
        }
        const rows = await q
          .orderBy('scheduled_at', 'desc')
          .orderBy('id', 'desc')
          .limit(Math.max(0, Math.floor(query.limit)))
          .execute();
        return withNodes(db, rows);
      }),

    attemptsOf: (runIds) =>
      guard('attempts of runs', async () => {
        if (runIds.length === 0) return [];
        const rows = await db
          .selectFrom('run_attempts')
          .selectAll()
          .where('run_id', '=', sql<number>`any(${runIds.map(String)}::bigint[])`)
          .orderBy('run_id')
          .orderBy('node')
          .orderBy('attempt')
          .execute();
        return rows.map(toAttempt);
      }),

    runsWithStatus: (statuses, limit) =>
      guard('runs to work on', async () => {
        if (statuses.length === 0 || limit <= 0) return [];
        const rows = await db
          .selectFrom('runs')
          .selectAll()
          .where('status', 'in', [...statuses])
          .orderBy('scheduled_at')
          .orderBy('id')
          .limit(Math.floor(limit))
          .execute();
        return withNodes(db, rows);
      }),

    previousRun: (projectName, jobName, scheduledAt) =>
      guard(`runs of job "${jobName}" of project "${projectName}"`, async () => {
        const row = await db
          .selectFrom('runs')
          .selectAll()
          .where('project_name', '=', projectName)
          .where('job_name', '=', jobName)
          .where('scheduled_at', '<', scheduledAt)
          .orderBy('scheduled_at', 'desc')
          .limit(1)
          .executeTakeFirst();
        return row && (await withNodes(db, [row]))[0];
      }),

    newestRunsAt: (projectName, jobName, times) =>
      guard(`runs of job "${jobName}" of project "${projectName}"`, async () => {
        if (times.length === 0) return [];
        // runs_job_idx (project, job, scheduled_at) finds each time; `distinct on` keeps the newest.
        const { rows } = await sql<{
          id: number | string;
          scheduled_at: Date;
          trigger: string;
          status: string;
        }>`
          select distinct on (scheduled_at) id, scheduled_at, trigger, status from runs
          where project_name = ${projectName} and job_name = ${jobName}
            and scheduled_at = any(${times.map((t) => t.toISOString())}::timestamptz[])
          order by scheduled_at, id desc`.execute(db);
        return rows.map(
          (r): RunAtTime => ({
            id: id(r.id),
            scheduledAt: r.scheduled_at,
            trigger: r.trigger as RunTrigger,
            status: r.status as RunStatus,
          }),
        );
      }),

    latestScheduledAt: (projectName, jobName, trigger) =>
      guard(`runs of job "${jobName}" of project "${projectName}"`, async () => {
        const row = await db
          .selectFrom('runs')
          .select((eb) => eb.fn.max('scheduled_at').as('latest'))
          .where('project_name', '=', projectName)
          .where('job_name', '=', jobName)
          .where('trigger', '=', trigger)
          .executeTakeFirst();
        return row?.latest ?? undefined;
      }),

    updateRun: (runId, decide) =>
      guard(`run ${runId}`, () =>
        db.transaction().execute(async (tx) => {
          const row = await tx
            .selectFrom('runs')
            .selectAll()
            .where('id', '=', runId)
            .forUpdate()
            .executeTakeFirst();
          if (!row) return undefined;
          const nodes = await tx
            .selectFrom('run_nodes')
            .selectAll()
            .where('run_id', '=', runId)
            .orderBy('ordinal')
            .forUpdate()
            .execute();
          const run = toRun(row, nodes.map(toNode));
          let change: RunChange | undefined;
          try {
            change = decide(run);
          } catch (e) {
            throw new DecideFailed(e);
          }
          if (!change) return run;
          const runSet = runColumns(change);
          if (Object.keys(runSet).length) {
            await tx.updateTable('runs').set(runSet).where('id', '=', runId).execute();
          }
          for (const nodeChange of change.nodes ?? []) {
            if (!run.nodes.some((n) => n.name === nodeChange.name)) {
              throw new OptimusError(
                'RUN_NODE_UNKNOWN',
                `run ${runId} of job "${run.jobName}" has no node "${nodeChange.name}"`,
                { category: 'internal', hint: 'the run graph of a run never changes: this is a bug' },
              );
            }
            const set = nodeColumns(nodeChange);
            if (Object.keys(set).length === 0) continue;
            await tx
              .updateTable('run_nodes')
              .set(set)
              .where('run_id', '=', runId)
              .where('name', '=', nodeChange.name)
              .execute();
          }
          if (change.attempts?.length) await applyAttempts(tx, runId, change.attempts);
          // Every value written is in `change` and the locks are still held: the fresh run is the
          // one read with the change applied, without reading it again.
          return applied(run, change);
        }),
      ),

    claimNodes: (owner, limit, leaseMs) =>
      guard('queued nodes', async () => {
        if (limit <= 0) return [];
        // The run row is share-locked too, so a run being changed (cancelled, finished) right now
        // is skipped rather than read as it was before that change.
        const { rows } = await sql<NodeRow>`
          with picked as (
            select n.run_id, n.name
            from run_nodes n join runs r on r.id = n.run_id
            where n.status = 'queued' and r.status = 'running' and not n.cancel_requested
              and (n.not_before is null or n.not_before <= now())
            order by r.scheduled_at, r.id, n.ordinal
            limit ${Math.floor(limit)}
            for update of n skip locked
            for share of r skip locked
          ), claimed as (
            update run_nodes n set
              status = 'running', attempt = n.attempt + 1, started_at = now(), finished_at = null,
              lease_owner = ${owner},
              lease_expires_at = now() + ${leaseMs}::double precision * interval '1 millisecond',
              handle = null, exit_code = null, error = null
            from picked
            where n.run_id = picked.run_id and n.name = picked.name
            returning n.*
          ), recorded as (
            insert into run_attempts (run_id, node, attempt, status, started_at)
            select run_id, name, attempt, 'running', started_at from claimed
            on conflict (run_id, node, attempt) do update set
              status = 'running', started_at = excluded.started_at, finished_at = null,
              exit_code = null, error = null
          )
          select c.* from claimed c join runs r on r.id = c.run_id
          order by r.scheduled_at, r.id, c.ordinal`.execute(db);
        return rows.map(toNode);
      }),

    renewLeases: (owner, leaseMs) =>
      guard(`leases of ${owner}`, async () => {
        const { rows } = await sql<{ run_id: number | string; name: string; cancel_requested: boolean }>`
          with held as (
            select run_id, name from run_nodes
            where lease_owner = ${owner} and status = 'running'
            order by run_id, ordinal
            for update
          )
          update run_nodes n
          set lease_expires_at = now() + ${leaseMs}::double precision * interval '1 millisecond'
          from held where n.run_id = held.run_id and n.name = held.name
          returning n.run_id, n.name, n.cancel_requested`.execute(db);
        return rows
          .filter((r) => r.cancel_requested)
          .map((r) => ({ runId: id(r.run_id), name: r.name }))
          .sort((a, b) => a.runId - b.runId || (a.name < b.name ? -1 : 1));
      }),

    orphanedNodes: (opts = {}) =>
      guard('orphaned nodes', async () => {
        let q = db.selectFrom('run_nodes').selectAll().where('status', '=', 'running');
        q =
          opts.owner === undefined
            ? q.where('lease_expires_at', '<', sql<Date>`now()`)
            : q.where('lease_owner', '=', opts.owner);
        return (await q.orderBy('run_id').orderBy('ordinal').execute()).map(toNode);
      }),

    runningNodes: () =>
      guard('running nodes', async () =>
        (
          await db
            .selectFrom('run_nodes')
            .selectAll()
            .where('status', '=', 'running')
            .orderBy('run_id')
            .orderBy('ordinal')
            .execute()
        ).map(toNode),
      ),

    cancelRunsOfJobs: (projectName, jobNames, note) =>
      guard(`runs of project "${projectName}"`, () =>
        db.transaction().execute((tx) => cancelRunsOfJobs(tx, projectName, jobNames, note)),
      ),

    appendLogs: (lines) =>
      guard(`log lines of run ${lines[0]?.runId}`, async () => {
        if (lines.length === 0) return;
        const insert = async (tx: Db, chunk: typeof lines) => {
          const col = <T>(f: (l: (typeof lines)[number]) => T) => chunk.map(f);
          // `with ordinality … order by` keeps ids in the order the lines were given.
          await sql`
            insert into run_logs (run_id, node, attempt, stream, at, line)
            select r, n, a, s, t::timestamptz, l
            from unnest(
              ${col((l) => String(l.runId))}::bigint[], ${col((l) => l.node)}::text[],
              ${col((l) => l.attempt)}::integer[], ${col((l) => l.stream)}::text[],
              ${col((l) => l.at.toISOString())}::text[], ${col((l) => storable(l.line))}::text[]
            ) with ordinality as u(r, n, a, s, t, l, o)
            order by o`.execute(tx);
        };
        if (lines.length <= LOG_CHUNK) return insert(db, lines);
        await db.transaction().execute(async (tx) => {
          for (let i = 0; i < lines.length; i += LOG_CHUNK) await insert(tx, lines.slice(i, i + LOG_CHUNK));
        });
      }),

    readLogs: (runId, opts = {}) =>
      guard(`log lines of run ${runId}`, async () => {
        const limit = Math.min(MAX_LOG_LIMIT, Math.max(0, Math.floor(opts.limit ?? DEFAULT_LOG_LIMIT)));
        if (limit === 0) return [];
        let q = db.selectFrom('run_logs').selectAll().where('run_id', '=', runId);
        if (opts.node !== undefined) q = q.where('node', '=', opts.node);
        if (opts.afterId !== undefined) q = q.where('id', '>', opts.afterId);
        return (await q.orderBy('id').limit(limit).execute()).map(toLog);
      }),
  };
}
