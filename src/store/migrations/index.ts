/**
 * Every migration, in order. A static list (no directory scan) so the compiled store works from
 * dist/ or a bundle. Append new files as `NNNN_name.ts`; never edit or renumber an applied one.
 */
import type { Migration, MigrationProvider } from 'kysely';
import { init } from './0001_init.js';
import { windowPresets } from './0002_window_presets.js';
import { runs } from './0003_runs.js';
import { lineage } from './0004_lineage.js';
import { replays } from './0005_replays.js';
import { runAttempts } from './0006_run_attempts.js';

export const migrations: Record<string, Migration> = {
  '0001_init': init,
  '0002_window_presets': windowPresets,
  '0003_runs': runs,
  '0004_lineage': lineage,
  '0005_replays': replays,
  '0006_run_attempts': runAttempts,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
