/**
 * A project's window presets (the `presets` map of its presets file), sent at registration so the
 * server checks the presets jobs name. Null = the client sent none: presets are not checked.
 */
import { type Kysely, type Migration, sql } from 'kysely';

export const windowPresets: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('projects').addColumn('window_presets', sql`jsonb`).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('projects').dropColumn('window_presets').execute();
  },
};
