/**
 * The Store over Kysely: the same queries for PGlite and PostgreSQL. Bulk job writes go through
 * `unnest` of parallel text arrays (one statement per chunk instead of one per row), all inside one
 * transaction with the deploy record.
 */
import { type Kysely, type Selectable, sql } from 'kysely';
import { OptimusError } from '../core/errors.js';
import { cancelRunsOfJobs, createKyselyRunStore } from './kysely-run-store.js';
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
  JobInput,
  JobRecord,
  NamespaceRecord,
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

/** One `insert … select from unnest(…) on conflict do update` for a chunk of jobs. */
function upsertJobs(jobs: JobInput[]) {
  const col = <T>(f: (j: JobInput) => T) => jobs.map(f);
  return sql`
    insert into jobs (project_name, namespace_name, name, spec, assets, hash, run_graph)
    select p, ns, n, s::jsonb, a::jsonb, h, r::jsonb
    from unnest(
      ${col((j) => j.projectName)}::text[], ${col((j) => j.namespaceName)}::text[], ${col((j) => j.name)}::text[],
      ${col((j) => JSON.stringify(j.spec))}::text[], ${col((j) => JSON.stringify(j.assets))}::text[],
      ${col((j) => j.hash)}::text[], ${col((j) => JSON.stringify(j.runGraph))}::text[]
    ) as t(p, ns, n, s, a, h, r)
    on conflict (project_name, name) do update set
      namespace_name = excluded.namespace_name, spec = excluded.spec, assets = excluded.assets,
      hash = excluded.hash, run_graph = excluded.run_graph, updated_at = now()`;
}

export interface KyselyStoreOptions {
  kind: Store['kind'];
  /** PostgreSQL only: lets connection errors name the server (without its password). */
  url?: string | undefined;
  /** Runs after the database is closed (e.g. releases the data directory's lock). */
  onClose?: (() => void) | undefined;
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

  return {
    kind,
    ...createKyselyRunStore(db, url),

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

    jobSummaries: (projectName) =>
      guard(`jobs of project "${projectName}"`, () =>
        db
          .selectFrom('jobs')
          .select(['namespace_name as namespaceName', 'name', 'hash', 'updated_at as updatedAt'])
          .where('project_name', '=', projectName)
          .orderBy('name')
          .execute(),
      ),

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
        db.transaction().execute(async (tx) => {
          const rows = await tx
            .deleteFrom('jobs')
            .where('project_name', '=', projectName)
            .where('namespace_name', '=', namespaceName)
            .where('name', '=', name)
            .returning('name')
            .execute();
          // Its pending runs could only fail now: cancel them with the job, in one transaction.
          if (rows.length > 0)
            await cancelRunsOfJobs(tx, projectName, [name], 'cancelled: the job was deleted');
          return rows.length > 0;
        }),
      ),

    applyDeploy: ({ upsert, delete: names, deploy }) =>
      guard(`deploy to namespace "${deploy.namespaceName}" of project "${deploy.projectName}"`, () =>
        db.transaction().execute(async (tx) => {
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
          for (let i = 0; i < upsert.length; i += CHUNK) {
            await upsertJobs(upsert.slice(i, i + CHUNK)).execute(tx);
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
        }),
      ),

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

    close() {
      closed ??= db.destroy().finally(() => onClose?.());
      return closed;
    },
  };
}
