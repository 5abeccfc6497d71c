/**
 * Node attempts and manual retries (see run-store.ts): one row per attempt a node started, written
 * with the claim that starts it and the transition that ends it, so a run's history of tries
 * survives retries that overwrite the node's own row. `run_nodes.attempts_before` is what a manual
 * retry keeps of the attempt count: attempt numbers go on counting, the retry budget starts again.
 * An index for the newest runs across jobs (the console's runs list).
 *
 * Runs made before this migration get one row for each node's last attempt, from what the node's
 * row holds; their earlier attempts were never recorded.
 */
import { type Kysely, type Migration, sql } from 'kysely';

export const runAttempts: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('run_attempts')
      .addColumn('run_id', 'bigint', (c) => c.notNull().references('runs.id').onDelete('cascade'))
      .addColumn('node', sql`text collate "C"`, (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) =>
        c.notNull().check(sql`status in ('running', 'succeeded', 'failed', 'cancelled', 'timed_out')`),
      )
      .addColumn('started_at', 'timestamptz', (c) => c.notNull())
      .addColumn('finished_at', 'timestamptz')
      .addColumn('exit_code', 'integer')
      .addColumn('error', 'text')
      .addPrimaryKeyConstraint('run_attempts_pkey', ['run_id', 'node', 'attempt'])
      .execute();
    await sql`alter table run_nodes add column attempts_before integer not null default 0`.execute(db);
    await sql`create index runs_recent_idx on runs (scheduled_at desc, id desc)`.execute(db);
    // A node's row describes its last attempt: running, ended (succeeded, failed, cancelled), or
    // failed and waiting (queued) for its retry.
    await sql`
      insert into run_attempts (run_id, node, attempt, status, started_at, finished_at, exit_code, error)
      select run_id, name, attempt,
        case
          when status = 'running' then 'running'
          when status in ('succeeded', 'cancelled') then status
          when error like 'timed out%' then 'timed_out'
          else 'failed'
        end,
        started_at,
        case when status = 'running' then null else finished_at end,
        exit_code, error
      from run_nodes
      where attempt > 0 and started_at is not null
        and status in ('running', 'succeeded', 'failed', 'cancelled', 'queued')
        and (status <> 'queued' or finished_at is not null)`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`drop index runs_recent_idx`.execute(db);
    await sql`alter table run_nodes drop column attempts_before`.execute(db);
    await db.schema.dropTable('run_attempts').execute();
  },
};
