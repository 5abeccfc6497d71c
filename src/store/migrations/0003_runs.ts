/**
 * Run state (see run-store.ts): runs of deployed jobs, one row per node of each run, and the
 * captured log lines. Runs are keyed by job name, not foreign-keyed to jobs: a run's history stays
 * when its job is deleted. Status columns are checked here too, so a bug elsewhere cannot store a
 * state the runner does not know.
 */
import { type Kysely, type Migration, sql } from 'kysely';

const name = sql`text collate "C"`;
const json = sql`jsonb`;
const now = sql`now()`;

const RUN_STATUSES = sql`status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')`;
const NODE_STATUSES = sql`status in ('pending', 'queued', 'running', 'succeeded', 'failed', 'upstream_failed', 'skipped', 'cancelled')`;

export const runs: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('runs')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('project_name', name, (c) => c.notNull())
      .addColumn('namespace_name', name, (c) => c.notNull())
      .addColumn('job_name', name, (c) => c.notNull())
      .addColumn('scheduled_at', 'timestamptz', (c) => c.notNull())
      .addColumn('trigger', 'text', (c) => c.notNull().check(sql`trigger in ('schedule', 'manual')`))
      .addColumn('status', 'text', (c) => c.notNull().check(RUN_STATUSES))
      .addColumn('job_hash', 'text', (c) => c.notNull())
      .addColumn('settings', json, (c) => c.notNull())
      .addColumn('note', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
      .addColumn('started_at', 'timestamptz')
      .addColumn('finished_at', 'timestamptz')
      // The key that makes creating a run idempotent, whichever server computed it first.
      .addUniqueConstraint('runs_job_scheduled_key', ['project_name', 'job_name', 'scheduled_at'])
      .execute();
    // The runner's work list (runsWithStatus) and a job's history, newest first (listRuns).
    await db.schema.createIndex('runs_status_idx').on('runs').columns(['status', 'scheduled_at']).execute();
    await db.schema
      .createIndex('runs_job_idx')
      .on('runs')
      .expression(sql`project_name, job_name, scheduled_at desc`)
      .execute();

    await db.schema
      .createTable('run_nodes')
      .addColumn('run_id', 'bigint', (c) => c.notNull().references('runs.id').onDelete('cascade'))
      .addColumn('name', name, (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull().check(sql`stage in ('pre', 'task', 'post', 'fail')`))
      .addColumn('depends_on', json, (c) => c.notNull())
      .addColumn('ordinal', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(NODE_STATUSES))
      .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('not_before', 'timestamptz')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at', 'timestamptz')
      .addColumn('handle', json)
      .addColumn('cancel_requested', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('started_at', 'timestamptz')
      .addColumn('finished_at', 'timestamptz')
      .addColumn('exit_code', 'integer')
      .addColumn('error', 'text')
      .addPrimaryKeyConstraint('run_nodes_pkey', ['run_id', 'name'])
      .execute();
    // Partial indexes stay as small as the work in flight, however long the history grows.
    await db.schema
      .createIndex('run_nodes_queued_idx')
      .on('run_nodes')
      .columns(['run_id', 'ordinal'])
      .where(sql<boolean>`status = 'queued'`)
      .execute();
    await db.schema
      .createIndex('run_nodes_running_idx')
      .on('run_nodes')
      .columns(['lease_owner', 'lease_expires_at'])
      .where(sql<boolean>`status = 'running'`)
      .execute();

    // Not foreign-keyed to runs: the check, one per line, tripled the cost of appending a batch of
    // lines on PGlite, and lines are only written by the server that holds the run's node.
    await db.schema
      .createTable('run_logs')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('run_id', 'bigint', (c) => c.notNull())
      .addColumn('node', name, (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('stream', 'text', (c) => c.notNull().check(sql`stream in ('stdout', 'stderr', 'system')`))
      .addColumn('at', 'timestamptz', (c) => c.notNull())
      .addColumn('line', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('run_logs_run_idx').on('run_logs').columns(['run_id', 'id']).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('run_logs').execute();
    await db.schema.dropTable('run_nodes').execute();
    await db.schema.dropTable('runs').execute();
  },
};
