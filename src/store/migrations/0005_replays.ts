/**
 * Replays (see replay-store.ts): a stored plan of runs to create again over a range of scheduled
 * times, and the runs it creates. A replay's run re-runs a scheduled time that usually has a run
 * already, so "one run per job and scheduled time" now holds per replay: once for the schedule
 * and manual triggers (replay_id null), once within each replay.
 */
import { type Kysely, type Migration, sql } from 'kysely';

const name = sql`text collate "C"`;

export const replays: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('replays')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('project_name', name, (c) => c.notNull())
      .addColumn('namespace_name', name, (c) => c.notNull())
      .addColumn('job_name', name, (c) => c.notNull())
      // "from" and "to" are SQL keywords.
      .addColumn('range_from', 'timestamptz', (c) => c.notNull())
      .addColumn('range_to', 'timestamptz', (c) => c.notNull())
      .addColumn('downstream', 'boolean', (c) => c.notNull())
      .addColumn('parallel', 'boolean', (c) => c.notNull())
      .addColumn('status', 'text', (c) =>
        c.notNull().check(sql`status in ('running', 'succeeded', 'failed', 'cancelled')`),
      )
      .addColumn('note', 'text')
      // The plan, written once at creation: jobs in dependency order and the items with their
      // prerequisites. Which items have runs is read from runs.replay_id, never stored twice.
      .addColumn('jobs', sql`jsonb`, (c) => c.notNull())
      .addColumn('items', sql`jsonb`, (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('finished_at', 'timestamptz')
      .execute();
    // The refusal check and the advancer's work list look only at running replays.
    await db.schema
      .createIndex('replays_running_idx')
      .on('replays')
      .columns(['project_name', 'job_name'])
      .where(sql<boolean>`status = 'running'`)
      .execute();
    await db.schema
      .createIndex('replays_project_idx')
      .on('replays')
      .expression(sql`project_name, id desc`)
      .execute();

    await sql`alter table runs drop constraint runs_trigger_check`.execute(db);
    await sql`alter table runs add constraint runs_trigger_check
      check (trigger in ('schedule', 'manual', 'replay'))`.execute(db);
    await sql`alter table runs add column replay_id bigint references replays (id)`.execute(db);
    await sql`alter table runs drop constraint runs_job_scheduled_key`.execute(db);
    await sql`create unique index runs_job_scheduled_key on runs (project_name, job_name, scheduled_at)
      where replay_id is null`.execute(db);
    await sql`create unique index runs_replay_job_scheduled_key
      on runs (replay_id, project_name, job_name, scheduled_at) where replay_id is not null`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await sql`delete from runs where replay_id is not null`.execute(db);
    await sql`drop index runs_replay_job_scheduled_key`.execute(db);
    await sql`drop index runs_job_scheduled_key`.execute(db);
    await sql`alter table runs add constraint runs_job_scheduled_key
      unique (project_name, job_name, scheduled_at)`.execute(db);
    await sql`alter table runs drop column replay_id`.execute(db);
    await sql`alter table runs drop constraint runs_trigger_check`.execute(db);
    await sql`alter table runs add constraint runs_trigger_check
      check (trigger in ('schedule', 'manual'))`.execute(db);
    await db.schema.dropTable('replays').execute();
  },
};
