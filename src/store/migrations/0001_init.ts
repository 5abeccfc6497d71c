/**
 * Projects, namespaces, secrets, jobs and the deploy history. Names use the "C" collation so that
 * listings sort the same (bytewise) on PGlite and on any PostgreSQL, whatever its locale.
 * Constraint names matter: store-errors.ts maps `*_project_fkey` and `*_namespace_fkey` violations
 * to PROJECT_MISSING and NAMESPACE_MISSING.
 */
import { type Kysely, type Migration, sql } from 'kysely';

const name = sql`text collate "C"`;
const json = sql`jsonb`;
const now = sql`now()`;

export const init: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('projects')
      .addColumn('name', name, (c) => c.primaryKey())
      .addColumn('config', json, (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn('plugin_dependencies', json, (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .execute();

    await db.schema
      .createTable('namespaces')
      .addColumn('project_name', name, (c) => c.notNull())
      .addColumn('name', name, (c) => c.notNull())
      .addColumn('config', json, (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .addPrimaryKeyConstraint('namespaces_pkey', ['project_name', 'name'])
      .addForeignKeyConstraint('namespaces_project_fkey', ['project_name'], 'projects', ['name'], (c) =>
        c.onDelete('cascade'),
      )
      .execute();

    // A secret's name is unique in its project whatever its namespace; a null namespace (a
    // project-level secret) is not checked against namespaces (MATCH SIMPLE).
    await db.schema
      .createTable('secrets')
      .addColumn('project_name', name, (c) => c.notNull())
      .addColumn('name', name, (c) => c.notNull())
      .addColumn('namespace_name', name)
      .addColumn('ciphertext', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .addPrimaryKeyConstraint('secrets_pkey', ['project_name', 'name'])
      .addForeignKeyConstraint('secrets_project_fkey', ['project_name'], 'projects', ['name'], (c) =>
        c.onDelete('cascade'),
      )
      .addForeignKeyConstraint(
        'secrets_namespace_fkey',
        ['project_name', 'namespace_name'],
        'namespaces',
        ['project_name', 'name'],
        (c) => c.onDelete('cascade'),
      )
      .execute();

    // Job names are unique per project; the namespace is an attribute (and a listing key).
    await db.schema
      .createTable('jobs')
      .addColumn('project_name', name, (c) => c.notNull())
      .addColumn('namespace_name', name, (c) => c.notNull())
      .addColumn('name', name, (c) => c.notNull())
      .addColumn('spec', json, (c) => c.notNull())
      .addColumn('assets', json, (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('run_graph', json, (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .addPrimaryKeyConstraint('jobs_pkey', ['project_name', 'name'])
      .addForeignKeyConstraint(
        'jobs_namespace_fkey',
        ['project_name', 'namespace_name'],
        'namespaces',
        ['project_name', 'name'],
        (c) => c.onDelete('cascade'),
      )
      .execute();
    await db.schema
      .createIndex('jobs_namespace_idx')
      .on('jobs')
      .columns(['project_name', 'namespace_name'])
      .execute();

    await db.schema
      .createTable('deploys')
      .addColumn('id', 'serial', (c) => c.primaryKey())
      .addColumn('project_name', name, (c) => c.notNull())
      .addColumn('namespace_name', name, (c) => c.notNull())
      .addColumn('status', 'text', (c) =>
        c.notNull().check(sql`status in ('succeeded', 'unchanged', 'failed')`),
      )
      .addColumn('started_at', 'timestamptz', (c) => c.notNull())
      .addColumn('finished_at', 'timestamptz', (c) => c.notNull())
      .addColumn('added', json, (c) => c.notNull())
      .addColumn('modified', json, (c) => c.notNull())
      .addColumn('deleted', json, (c) => c.notNull())
      .addColumn('unchanged', 'integer', (c) => c.notNull())
      .addColumn('problems', json, (c) => c.notNull())
      .addForeignKeyConstraint(
        'deploys_namespace_fkey',
        ['project_name', 'namespace_name'],
        'namespaces',
        ['project_name', 'name'],
        (c) => c.onDelete('cascade'),
      )
      .execute();
    await db.schema
      .createIndex('deploys_namespace_idx')
      .on('deploys')
      .expression(sql`project_name, namespace_name, id desc`)
      .execute();
  },
};
