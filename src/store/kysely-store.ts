/**
 * The Store over Kysely: the same queries for PGlite and PostgreSQL. Bulk job writes go through
 * `unnest` of parallel text arrays (one statement per chunk instead of one per row), all inside one
 * transaction with the deploy record.
 */
import { type Kysely, type Selectable, sql } from 'kysely';
import { OptimusError } from '../core/errors.js';
import { jobKey, staticDependencies } from '../core/lineage.js';
import { createKyselyReplayStore } from './kysely-replay-store.js';
import { cancelRunsOfJobs, createKyselyRunStore } from './kysely-run-store.js';
import type { LineageRow, StaticDependency, UpstreamEdge } from './lineage-store.js';
import type { RunStatus } from './run-store.js';
import type {
  Database,
  DeploysTable,
  JobsTable,
  NamespacesTable,
  ProjectsTable,
  SecretsTable,
} from './schema.js';
import type {
  DeployInput,
  DeployRecord,
  DeployStatus,
  JobIndexFilter,
  JobIndexRow,
  JobInput,
  JobRecord,
  JobSummary,
  NamespaceRecord,
  PluginUse,
  ProjectRecord,
  SecretRecord,
  Store,
} from './store.js';
import { translate } from './store-errors.js';

/** Jobs per bulk statement: bounds the size of one statement's parameters (~1 KiB asset → ~1 MiB). */
const CHUNK = 1000;

const toProject = (r: Selectable<ProjectsTable>): ProjectRecord => ({
  name: r.name,
  config: r.config,
  pluginDependencies: r.plugin_dependencies,
  windowPresets: r.window_presets ?? null,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toNamespace = (r: Selectable<NamespacesTable>): NamespaceRecord => ({
  projectName: r.project_name,
  name: r.name,
  config: r.config,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toSecret = (r: Selectable<SecretsTable>): SecretRecord => ({
  projectName: r.project_name,
  name: r.name,
  namespaceName: r.namespace_name,
  ciphertext: r.ciphertext,
  digest: r.digest,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toJob = (r: Selectable<JobsTable>): JobRecord => ({
  projectName: r.project_name,
  namespaceName: r.namespace_name,
  name: r.name,
  spec: r.spec,
  assets: r.assets,
  hash: r.hash,
  runGraph: r.run_graph,
  lineage:
    r.lineage_key === null
      ? null
      : { key: r.lineage_key, destination: r.destination, sources: r.sources, warnings: r.lineage_warnings },
  upstreams: r.upstreams,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toDeploy = (r: Selectable<DeploysTable>): DeployRecord => ({
  id: r.id,
  projectName: r.project_name,
  namespaceName: r.namespace_name,
  status: r.status as DeployStatus,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  added: r.added,
  modified: r.modified,
  deleted: r.deleted,
  unchanged: r.unchanged,
  problems: r.problems,
});

const deployRow = (d: DeployInput) => ({
  project_name: d.projectName,
  namespace_name: d.namespaceName,
  status: d.status,
  started_at: d.startedAt,
  finished_at: d.finishedAt,
  added: JSON.stringify(d.added),
  modified: JSON.stringify(d.modified),
  deleted: JSON.stringify(d.deleted),
  unchanged: d.unchanged,
  problems: JSON.stringify(d.problems),
});

/**
 * One `insert … select from unnest(…) on conflict do update` for a chunk of jobs. With `upstreams`
 * (one list per job, resolved before the write) they are written in the same statement; without,
 * a new job gets none and a stored job keeps its own.
 */
function upsertJobs(jobs: JobInput[], upstreams?: UpstreamEdge[][]) {
  const col = <T>(f: (j: JobInput) => T) => jobs.map(f);
  const u = upstreams
    ? {
        column: sql`, upstreams`,
        value: sql`, u::jsonb`,
        array: sql`, ${upstreams.map((l) => JSON.stringify(l))}::text[]`,
        alias: sql`, u`,
        set: sql`, upstreams = excluded.upstreams`,
      }
    : { column: sql``, value: sql``, array: sql``, alias: sql``, set: sql`` };
  return sql`
    insert into jobs (project_name, namespace_name, name, spec, assets, hash, run_graph,
      lineage_key, destination, sources, lineage_warnings, static_deps${u.column})
    select p, ns, n, s::jsonb, a::jsonb, h, r::jsonb, lk, ld, ls::jsonb, lw::jsonb, sd::jsonb${u.value}
    from unnest(
      ${col((j) => j.projectName)}::text[], ${col((j) => j.namespaceName)}::text[], ${col((j) => j.name)}::text[],
      ${col((j) => JSON.stringify(j.spec))}::text[], ${col((j) => JSON.stringify(j.assets))}::text[],
      ${col((j) => j.hash)}::text[], ${col((j) => JSON.stringify(j.runGraph))}::text[],
      ${col((j) => j.lineage?.key ?? null)}::text[], ${col((j) => j.lineage?.destination ?? null)}::text[],
      ${col((j) => JSON.stringify(j.lineage?.sources ?? []))}::text[],
      ${col((j) => JSON.stringify(j.lineage?.warnings ?? []))}::text[],
      ${col((j) => JSON.stringify(j.staticDependencies ?? staticDependencies(j.spec)))}::text[]${u.array}
    ) as t(p, ns, n, s, a, h, r, lk, ld, ls, lw, sd${u.alias})
    on conflict (project_name, name) do update set
      namespace_name = excluded.namespace_name, spec = excluded.spec, assets = excluded.assets,
      hash = excluded.hash, run_graph = excluded.run_graph, lineage_key = excluded.lineage_key,
      destination = excluded.destination, sources = excluded.sources,
      lineage_warnings = excluded.lineage_warnings, static_deps = excluded.static_deps${u.set},
      updated_at = now()`;
}

/** Every job's lineage row (light columns only): what upstream resolution reads. */
async function readLineageRows(db: Kysely<Database>): Promise<LineageRow[]> {
  // One JSON document rather than a row per job: PGlite's per-cell decoding of three jsonb columns
  // made 10,000 rows cost several times what one JSON.parse of the same text does.
  const { rows } = await sql<{ all: string }>`
    select coalesce(json_agg(json_build_array(
      project_name, namespace_name, name, destination, sources, static_deps, upstreams)), '[]')::text as all
    from jobs`.execute(db);
  const all = JSON.parse(rows[0]?.all ?? '[]') as [
    string,
    string,
    string,
    string | null,
    string[],
    StaticDependency[],
    UpstreamEdge[],
  ][];
  return all.map(
    ([projectName, namespaceName, name, destination, sources, staticDependencies, upstreams]) => ({
      projectName,
      namespaceName,
      name,
      destination,
      sources,
      staticDependencies,
      upstreams,
    }),
  );
}

/**
 * Every job's lineage row as it will be once `upsert` is written: stored rows replaced by the
 * upserted jobs (which keep their stored upstreams, or none when new, until resolution says
 * otherwise). `upserted` holds the upserted jobs' rows by key.
 */
function rowsAfter(
  stored: LineageRow[],
  upsert: JobInput[],
): { rows: LineageRow[]; upserted: Map<string, LineageRow> } {
  const before = new Map(stored.map((r) => [jobKey(r.projectName, r.name), r]));
  const upserted = new Map<string, LineageRow>();
  for (const j of upsert) {
    const k = jobKey(j.projectName, j.name);
    upserted.set(k, {
      projectName: j.projectName,
      namespaceName: j.namespaceName,
      name: j.name,
      destination: j.lineage?.destination ?? null,
      sources: j.lineage?.sources ?? [],
      staticDependencies: j.staticDependencies ?? staticDependencies(j.spec),
      upstreams: before.get(k)?.upstreams ?? [],
    });
  }
  const rows = stored.filter((r) => !upserted.has(jobKey(r.projectName, r.name)));
  rows.push(...upserted.values());
  return { rows, upserted };
}

/** One `update … from unnest(…)` writing a chunk of resolved upstream lists. */
function writeUpstreams(lists: { projectName: string; name: string; upstreams: UpstreamEdge[] }[]) {
  return sql`
    update jobs set upstreams = t.u::jsonb
    from unnest(
      ${lists.map((l) => l.projectName)}::text[], ${lists.map((l) => l.name)}::text[],
      ${lists.map((l) => JSON.stringify(l.upstreams))}::text[]
    ) as t(p, n, u)
    where jobs.project_name = t.p and jobs.name = t.n`;
}

/**
 * The key of the one lock every resolving deploy takes (pg_advisory_xact_lock): upstreams are
 * resolved over every project, so two deploys resolving at once could each miss the other's half
 * of a cycle. A fixed bigint; nothing else in the store uses it.
 */
const LINEAGE_LOCK = 0x6f7074_6c696e; // "opt" "lin"

export interface KyselyStoreOptions {
  kind: Store['kind'];
  /** PostgreSQL only: lets connection errors name the server (without its password). */
  url?: string | undefined;
  /** Runs after the database is closed (e.g. releases the data directory's lock). */
  onClose?: (() => void) | undefined;
}

/** What a write to jobs may do with the lineage rows held in memory (see summaryCache). */
interface HeldLineage {
  /** Every job's lineage row as stored when the write began; undefined when none is held. */
  readonly rows: readonly LineageRow[] | undefined;
  /** The rows as stored once the write committed: held for the next reader. */
  keep(rows: readonly LineageRow[]): void;
}

/**
 * Job summaries per namespace, and every job's lineage row, kept in memory for the embedded store
 * only: its data directory is opened by one process at a time, so every write to jobs goes through
 * `writing` here. (A server on PostgreSQL may share it with others, whose writes this process would
 * not see.) A read that started before a write finished is not kept: the generation it began at is
 * stale by then. Lineage rows are what upstream resolution reads on every deploy (~120 ms for
 * 10,000 jobs from PGlite): a deploy starts from the rows held and leaves the rows it committed,
 * unless another write overlapped it.
 */
function summaryCache(kind: Store['kind']) {
  const held = new Map<string, readonly JobSummary[]>();
  let lineage: readonly LineageRow[] | undefined;
  let writes = 0;
  /** Counts writes begun: a write may leave its rows only when no other began after it. */
  let begun = 0;
  const cache = {
    /** Bumped when a write starts and when it ends. */
    generation: 0,
    get: (project: string, namespace: string) =>
      kind === 'pglite' && !writes ? held.get(`${project}\0${namespace}`) : undefined,
    set(project: string, namespace: string, list: readonly JobSummary[], generation: number) {
      if (kind === 'pglite' && !writes && generation === cache.generation)
        held.set(`${project}\0${namespace}`, list);
    },
    lineage: () => (kind === 'pglite' && !writes ? lineage : undefined),
    setLineage(rows: readonly LineageRow[], generation: number) {
      if (kind === 'pglite' && !writes && generation === cache.generation) lineage = freezeRows(rows);
    },
    async writing<T>(f: (held: HeldLineage) => Promise<T>): Promise<T> {
      const alone = writes === 0;
      const start = ++begun;
      const rows = alone ? lineage : undefined;
      let kept: readonly LineageRow[] | undefined;
      lineage = undefined;
      writes++;
      cache.generation++;
      held.clear();
      try {
        return await f({
          rows,
          keep: (r) => {
            kept = r;
          },
        });
      } finally {
        writes--;
        cache.generation++;
        held.clear();
        lineage = kind === 'pglite' && alone && begun === start && kept ? freezeRows(kept) : undefined;
      }
    },
  };
  return cache;
}

/** Rows held in memory are shared by every reader: frozen, so a careless caller fails loudly. */
function freezeRows(rows: readonly LineageRow[]): readonly LineageRow[] {
  if (Object.isFrozen(rows)) return rows;
  for (const r of rows) {
    if (Object.isFrozen(r)) continue;
    Object.freeze(r.sources);
    Object.freeze(r.staticDependencies);
    Object.freeze(r.upstreams);
    Object.freeze(r);
  }
  return Object.freeze(rows);
}

/** A stored run graph's nodes, whatever was stored (a graph is a list; anything else has none). */
const graphNodes = (column: string) =>
  sql.raw(
    `jsonb_array_elements(case when jsonb_typeof(${column}) = 'array' then ${column} else '[]'::jsonb end)`,
  );
/** The plugin a stored node runs (graphs stored by early tests name no type: the node's name is it). */
const nodePlugin = sql`coalesce(n->>'type', n->>'name')`;
const epochMs = (column: string) => sql.raw(`(extract(epoch from ${column}) * 1000)::float8`);

/** The `where` of the jobs index's filters that read the jobs table only. */
function jobIndexWhere(f: JobIndexFilter) {
  const where = [sql`true`];
  if (f.project !== undefined) where.push(sql`j.project_name = ${f.project}`);
  if (f.namespace !== undefined) where.push(sql`j.namespace_name = ${f.namespace}`);
  if (f.q !== undefined && f.q !== '') {
    // strpos, not like: a `%` or `_` in the search is a character to find, not a wildcard.
    const q = f.q.toLowerCase();
    where.push(
      sql`(strpos(lower(j.name), ${q}) > 0 or strpos(lower(coalesce(j.spec->>'owner', '')), ${q}) > 0)`,
    );
  }
  if (f.plugin !== undefined)
    where.push(
      sql`exists (select 1 from ${graphNodes('j.run_graph')} as n where ${nodePlugin} = ${f.plugin})`,
    );
  return sql.join(where, sql` and `);
}

/** The newest run (by scheduled time) of the job in row `j`, as a lateral subquery. */
const newestRun = sql`lateral (
  select r.id, r.status, r.scheduled_at from runs r
  where r.project_name = j.project_name and r.job_name = j.name
  order by r.scheduled_at desc, r.id desc limit 1) as r on true`;

type JobIndexCells = [
  string,
  string,
  string,
  string,
  string[],
  string | null,
  string | null,
  number,
  number | string | null,
  string | null,
  number | null,
];

async function readJobIndex(
  db: Kysely<Database>,
  f: JobIndexFilter,
): Promise<{ total: number; jobs: JobIndexRow[] }> {
  const row = sql`json_build_array(j.project_name, j.namespace_name, j.name,
    coalesce(j.spec->'task'->>'name', ''),
    (select coalesce(json_agg(${nodePlugin} order by o), '[]'::json)
      from ${graphNodes('j.run_graph')} with ordinality as e(n, o) where n->>'stage' is distinct from 'task'),
    j.spec->'schedule'->>'interval', j.spec->>'owner', ${epochMs('j.updated_at')},
    r.id, r.status, ${epochMs('r.scheduled_at')})`;
  const order = sql`j.project_name, j.namespace_name, j.name`;
  const where = jobIndexWhere(f);
  // Without a status filter the newest run is looked up for the page's jobs only; with one, for
  // every job the other filters keep (the status decides which jobs are counted).
  const query =
    f.lastStatus === undefined
      ? sql<{ total: number; page: string | null }>`
        with m as (select j.project_name, j.namespace_name, j.name from jobs j where ${where})
        select (select count(*) from m)::int as total, (
          select json_agg(${row} order by ${order})::text from (
            select * from m order by project_name, namespace_name, name limit ${f.limit} offset ${f.offset}
          ) as p
          join jobs j on j.project_name = p.project_name and j.name = p.name
          left join ${newestRun}
        ) as page`
      : sql<{ total: number; page: string | null }>`
        with m as (
          select j.project_name, j.namespace_name, j.name, r.id as run_id from jobs j left join ${newestRun}
          where ${where} and ${f.lastStatus === 'never' ? sql`r.id is null` : sql`r.status = ${f.lastStatus}`}
        )
        select (select count(*) from m)::int as total, (
          select json_agg(${row} order by ${order})::text from (
            select * from m order by project_name, namespace_name, name limit ${f.limit} offset ${f.offset}
          ) as p
          join jobs j on j.project_name = p.project_name and j.name = p.name
          left join runs r on r.id = p.run_id
        ) as page`;
  const { rows } = await query.execute(db);
  const page = rows[0]?.page;
  const jobs = (page ? (JSON.parse(page) as JobIndexCells[]) : []).map(
    ([projectName, namespaceName, name, task, hooks, schedule, owner, updatedAt, runId, status, at]) => ({
      projectName,
      namespaceName,
      name,
      task,
      hooks,
      schedule,
      owner,
      updatedAt: new Date(updatedAt),
      lastRun:
        runId === null
          ? null
          : { id: Number(runId), status: status as RunStatus, scheduledAt: new Date(at ?? 0) },
    }),
  );
  return { total: Number(rows[0]?.total ?? 0), jobs };
}

async function readPluginUsage(
  db: Kysely<Database>,
  plugin: string,
  limit: number,
): Promise<{ total: number; uses: PluginUse[] }> {
  const { rows } = await sql<{ total: number; page: string | null }>`
    with u as (
      select j.project_name, j.namespace_name, j.name, n->>'stage' as stage, n->>'name' as hook, o
      from jobs j cross join lateral ${graphNodes('j.run_graph')} with ordinality as e(n, o)
      where ${nodePlugin} = ${plugin}
    )
    select (select count(*) from u)::int as total, (
      select json_agg(json_build_array(project_name, namespace_name, name, stage, hook)
        order by project_name, namespace_name, name, o)::text
      from (select * from u order by project_name, namespace_name, name, o limit ${limit}) as p
    ) as page`.execute(db);
  const page = rows[0]?.page;
  const uses = (page ? (JSON.parse(page) as [string, string, string, string, string][]) : []).map(
    ([projectName, namespaceName, job, stage, hook]): PluginUse =>
      stage === 'task'
        ? { projectName, namespaceName, job, as: 'task', hook: null }
        : { projectName, namespaceName, job, as: 'hook', hook },
  );
  return { total: Number(rows[0]?.total ?? 0), uses };
}

export function createKyselyStore(db: Kysely<Database>, { kind, url, onClose }: KyselyStoreOptions): Store {
  const guard = async <T>(subject: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw translate(e, subject, url);
    }
  };
  let closed: Promise<void> | undefined;
  const summaries = summaryCache(kind);

  return {
    kind,
    ...createKyselyRunStore(db, url),
    ...createKyselyReplayStore(db, url),

    upsertProject: (p) =>
      guard(`project "${p.name}"`, async () => {
        const row = await db
          .insertInto('projects')
          .values({
            name: p.name,
            config: JSON.stringify(p.config),
            plugin_dependencies: JSON.stringify(p.pluginDependencies),
            window_presets: p.windowPresets ? JSON.stringify(p.windowPresets) : null,
          })
          .onConflict((oc) =>
            oc.column('name').doUpdateSet((eb) => ({
              config: eb.ref('excluded.config'),
              plugin_dependencies: eb.ref('excluded.plugin_dependencies'),
              window_presets: eb.ref('excluded.window_presets'),
              updated_at: sql<Date>`now()`,
            })),
          )
          .returningAll()
          .executeTakeFirstOrThrow();
        return toProject(row);
      }),

    getProject: (name) =>
      guard(`project "${name}"`, async () => {
        const row = await db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
        return row && toProject(row);
      }),

    listProjects: () =>
      guard('projects', async () =>
        (await db.selectFrom('projects').selectAll().orderBy('name').execute()).map(toProject),
      ),

    upsertNamespace: (n) =>
      guard(`namespace "${n.name}" of project "${n.projectName}"`, async () => {
        const row = await db
          .insertInto('namespaces')
          .values({ project_name: n.projectName, name: n.name, config: JSON.stringify(n.config) })
          .onConflict((oc) =>
            oc.columns(['project_name', 'name']).doUpdateSet((eb) => ({
              config: eb.ref('excluded.config'),
              updated_at: sql<Date>`now()`,
            })),
          )
          .returningAll()
          .executeTakeFirstOrThrow();
        return toNamespace(row);
      }),

    getNamespace: (projectName, name) =>
      guard(`namespace "${name}" of project "${projectName}"`, async () => {
        const row = await db
          .selectFrom('namespaces')
          .selectAll()
          .where('project_name', '=', projectName)
          .where('name', '=', name)
          .executeTakeFirst();
        return row && toNamespace(row);
      }),

    listNamespaces: (projectName) =>
      guard(`namespaces of project "${projectName}"`, async () =>
        (
          await db
            .selectFrom('namespaces')
            .selectAll()
            .where('project_name', '=', projectName)
            .orderBy('name')
            .execute()
        ).map(toNamespace),
      ),

    insertSecret: (s) =>
      guard(`secret "${s.name}" of project "${s.projectName}"`, async () => {
        const row = await db
          .insertInto('secrets')
          .values({
            project_name: s.projectName,
            name: s.name,
            namespace_name: s.namespaceName,
            ciphertext: s.ciphertext,
            digest: s.digest,
          })
          .onConflict((oc) => oc.columns(['project_name', 'name']).doNothing())
          .returningAll()
          .executeTakeFirst();
        if (!row) {
          throw new OptimusError(
            'SECRET_EXISTS',
            `secret "${s.name}" already exists in project "${s.projectName}"`,
            {
              category: 'conflict',
              hint: 'secret names are unique per project, whatever the namespace: update the secret, or delete it first',
            },
          );
        }
        return toSecret(row);
      }),

    updateSecret: (s) =>
      guard(`secret "${s.name}" of project "${s.projectName}"`, async () => {
        const row = await db
          .updateTable('secrets')
          .set({
            namespace_name: s.namespaceName,
            ciphertext: s.ciphertext,
            digest: s.digest,
            updated_at: sql<Date>`now()`,
          })
          .where('project_name', '=', s.projectName)
          .where('name', '=', s.name)
          .returningAll()
          .executeTakeFirst();
        return row && toSecret(row);
      }),

    deleteSecret: (projectName, name, namespaceName) =>
      guard(`secret "${name}" of project "${projectName}"`, async () => {
        let q = db.deleteFrom('secrets').where('project_name', '=', projectName).where('name', '=', name);
        if (namespaceName) q = q.where('namespace_name', '=', namespaceName);
        else if (namespaceName === null) q = q.where('namespace_name', 'is', null);
        return (await q.returning('name').execute()).length > 0;
      }),

    getSecret: (projectName, name) =>
      guard(`secret "${name}" of project "${projectName}"`, async () => {
        const row = await db
          .selectFrom('secrets')
          .selectAll()
          .where('project_name', '=', projectName)
          .where('name', '=', name)
          .executeTakeFirst();
        return row && toSecret(row);
      }),

    listSecrets: (projectName) =>
      guard(`secrets of project "${projectName}"`, async () =>
        (
          await db
            .selectFrom('secrets')
            .selectAll()
            .where('project_name', '=', projectName)
            .orderBy('name')
            .execute()
        ).map(toSecret),
      ),

    secretsVisibleTo: (projectName, namespaceName) =>
      guard(`secrets of namespace "${namespaceName}" of project "${projectName}"`, async () =>
        (
          await db
            .selectFrom('secrets')
            .selectAll()
            .where('project_name', '=', projectName)
            .where((eb) =>
              eb.or([eb('namespace_name', 'is', null), eb('namespace_name', '=', namespaceName)]),
            )
            .orderBy('name')
            .execute()
        ).map(toSecret),
      ),

    jobSummaries: (projectName, only = {}) =>
      guard(`jobs of project "${projectName}"`, async () => {
        if (only.names?.length === 0) return [];
        const cacheable = only.namespace !== undefined && !only.names;
        const held = cacheable ? summaries.get(projectName, only.namespace!) : undefined;
        if (held) return [...held];
        const generation = summaries.generation;
        // One JSON array built by the database instead of one row per job: decoding thousands of
        // rows field by field costs the embedded store three times what parsing one text does.
        const where = [sql`project_name = ${projectName}`];
        if (only.namespace !== undefined) where.push(sql`namespace_name = ${only.namespace}`);
        if (only.names) where.push(sql`name = any(${[...only.names]}::text[])`);
        const { rows } = await sql<{ list: string | null }>`
          select json_agg(json_build_array(
            namespace_name, name, hash, lineage_key, spec->'task'->>'name',
            (extract(epoch from updated_at) * 1000)::float8
          ) order by name collate "C")::text as list
          from jobs where ${sql.join(where, sql` and `)}`.execute(db);
        const list = rows[0]?.list;
        const out: JobSummary[] = !list
          ? []
          : (JSON.parse(list) as [string, string, string, string | null, string | null, number][]).map(
              ([namespaceName, name, hash, lineageKey, taskName, updatedAt]) => ({
                namespaceName,
                name,
                hash,
                lineageKey,
                taskName,
                updatedAt: new Date(updatedAt),
              }),
            );
        if (cacheable) summaries.set(projectName, only.namespace!, out, generation);
        return [...out];
      }),

    listJobs: (projectName, namespaceName) =>
      guard(`jobs of namespace "${namespaceName}" of project "${projectName}"`, async () =>
        (
          await db
            .selectFrom('jobs')
            .selectAll()
            .where('project_name', '=', projectName)
            .where('namespace_name', '=', namespaceName)
            .orderBy('name')
            .execute()
        ).map(toJob),
      ),

    getJob: (projectName, namespaceName, name) =>
      guard(`job "${name}" of project "${projectName}"`, async () => {
        const row = await db
          .selectFrom('jobs')
          .selectAll()
          .where('project_name', '=', projectName)
          .where('namespace_name', '=', namespaceName)
          .where('name', '=', name)
          .executeTakeFirst();
        return row && toJob(row);
      }),

    findJob: (projectName, jobName) =>
      guard(`job "${jobName}" of project "${projectName}"`, async () => {
        const row = await db
          .selectFrom('jobs')
          .selectAll()
          .where('project_name', '=', projectName)
          .where('name', '=', jobName)
          .executeTakeFirst();
        return row && toJob(row);
      }),

    deleteJob: (projectName, namespaceName, name) =>
      guard(`job "${name}" of project "${projectName}"`, () =>
        summaries.writing(() =>
          db.transaction().execute(async (tx) => {
            const rows = await tx
              .deleteFrom('jobs')
              .where('project_name', '=', projectName)
              .where('namespace_name', '=', namespaceName)
              .where('name', '=', name)
              .returning('name')
              .execute();
            // Its pending runs could only fail now: cancel them with the job, in one transaction.
            if (rows.length > 0) {
              await cancelRunsOfJobs(tx, projectName, [name], 'cancelled: the job was deleted');
              // No edge may point at a job that is gone; a static dependency on it is unresolved now.
              const target = JSON.stringify([{ project: projectName, job: name }]);
              await sql`
              update jobs set upstreams = coalesce((
                select jsonb_agg(e order by o) from jsonb_array_elements(jobs.upstreams) with ordinality as x(e, o)
                where not (e->>'project' = ${projectName} and e->>'job' = ${name})), '[]'::jsonb)
              where upstreams @> ${target}::jsonb`.execute(tx);
            }
            return rows.length > 0;
          }),
        ),
      ),

    applyDeploy: ({ upsert, delete: names, deploy, resolve }) =>
      guard(`deploy to namespace "${deploy.namespaceName}" of project "${deploy.projectName}"`, () =>
        summaries.writing(async (lineage) => {
          /** Every job's lineage row once this deploy is committed (when it resolves). */
          let after: LineageRow[] | undefined;
          const record = await db.transaction().execute(async (tx) => {
            // Taken first, so every resolving deploy takes its locks in the same order.
            if (resolve) await sql`select pg_advisory_xact_lock(${LINEAGE_LOCK}::bigint)`.execute(tx);
            // Deploys to one namespace take turns (PostgreSQL): two overlapping ones would otherwise
            // lock the same rows in different orders and one would die in a deadlock.
            const key = `deploy/${deploy.projectName}/${deploy.namespaceName}`;
            await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(tx);
            let deleted: string[] = [];
            if (names.length) {
              const { rows } = await sql<{ name: string }>`
              delete from jobs
              where project_name = ${deploy.projectName} and namespace_name = ${deploy.namespaceName}
                and name = any(${names}::text[])
              returning name`.execute(tx);
              deleted = rows.map((r) => r.name);
            }
            if (resolve) {
              // Resolved before the upserts, over the rows as they will be after them, so each upserted
              // job's list is written by its own insert: rewriting 10,000 just-inserted rows to add
              // their upstreams doubled the cost of a large deploy.
              const gone = new Set(deleted);
              const stored = lineage.rows
                ? lineage.rows.filter(
                    (r) =>
                      !gone.has(r.name) ||
                      r.projectName !== deploy.projectName ||
                      r.namespaceName !== deploy.namespaceName,
                  )
                : await readLineageRows(tx);
              const { rows, upserted } = rowsAfter(stored, upsert);
              const changed = resolve(rows);
              after = rows.map((r) => {
                const upstreams = changed.get(jobKey(r.projectName, r.name));
                return upstreams ? { ...r, upstreams } : r;
              });
              for (let i = 0; i < upsert.length; i += CHUNK) {
                const chunk = upsert.slice(i, i + CHUNK);
                const lists = chunk.map((j) => {
                  const k = jobKey(j.projectName, j.name);
                  return changed.get(k) ?? upserted.get(k)!.upstreams;
                });
                await upsertJobs(chunk, lists).execute(tx);
              }
              const others = rows.flatMap((r) => {
                const k = jobKey(r.projectName, r.name);
                const upstreams = upserted.has(k) ? undefined : changed.get(k);
                return upstreams ? [{ projectName: r.projectName, name: r.name, upstreams }] : [];
              });
              for (let i = 0; i < others.length; i += CHUNK) {
                await writeUpstreams(others.slice(i, i + CHUNK)).execute(tx);
              }
            } else {
              for (let i = 0; i < upsert.length; i += CHUNK) {
                await upsertJobs(upsert.slice(i, i + CHUNK)).execute(tx);
              }
            }
            const row = await tx
              .insertInto('deploys')
              .values(deployRow(deploy))
              .returningAll()
              .executeTakeFirstOrThrow();
            // A job deleted and upserted by one deploy still exists afterwards: its runs go on.
            const upserted = new Set(upsert.map((j) => j.name));
            await cancelRunsOfJobs(
              tx,
              deploy.projectName,
              deleted.filter((n) => !upserted.has(n)),
              `cancelled: the job was deleted by deploy ${row.id}`,
            );
            return toDeploy(row);
          });
          if (after) lineage.keep(after);
          return record;
        }),
      ),

    lineageRows: () =>
      guard('lineage of every job', async () => {
        const held = summaries.lineage();
        if (held) return held as LineageRow[];
        const generation = summaries.generation;
        const rows = await readLineageRows(db);
        summaries.setLineage(rows, generation);
        return rows;
      }),

    recordDeploy: (deploy) =>
      guard(`deploy to namespace "${deploy.namespaceName}" of project "${deploy.projectName}"`, async () =>
        toDeploy(
          await db.insertInto('deploys').values(deployRow(deploy)).returningAll().executeTakeFirstOrThrow(),
        ),
      ),

    listDeploys: (projectName, namespaceName, limit) =>
      guard(`deploys of namespace "${namespaceName}" of project "${projectName}"`, async () => {
        let q = db
          .selectFrom('deploys')
          .selectAll()
          .where('project_name', '=', projectName)
          .where('namespace_name', '=', namespaceName)
          .orderBy('id', 'desc');
        if (limit !== undefined) q = q.limit(limit);
        return (await q.execute()).map(toDeploy);
      }),

    recentDeploys: ({ project, namespace, limit }) =>
      guard('recent deploys', async () => {
        let q = db.selectFrom('deploys').selectAll().orderBy('id', 'desc').limit(limit);
        if (project !== undefined) q = q.where('project_name', '=', project);
        if (namespace !== undefined) q = q.where('namespace_name', '=', namespace);
        return (await q.execute()).map(toDeploy);
      }),

    jobIndex: (filter) => guard('the jobs index', () => readJobIndex(db, filter)),

    pluginUsage: (plugin, limit) =>
      guard(`jobs using plugin "${plugin}"`, () => readPluginUsage(db, plugin, limit)),

    close() {
      closed ??= db.destroy().finally(() => onClose?.());
      return closed;
    },
  };
}
