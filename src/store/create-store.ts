/**
 * Open the store: PostgreSQL when `url` is set, else embedded PGlite (in `dataDir`, or in memory),
 * then apply pending migrations. Drivers load lazily so a process only pays for the one it uses
 * (PGlite's WebAssembly takes seconds to start).
 */
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import { OptimusError } from '../core/errors.js';
import { lockDataDir } from './data-dir-lock.js';
import { createKyselyStore } from './kysely-store.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';
import type { Store, StoreOptions } from './store.js';
import { isConnectionError, scrub, unreachable } from './store-errors.js';

export { redactUrl } from './store-errors.js';

export async function createStore(opts: StoreOptions): Promise<Store> {
  const { db, kind, release } = opts.url ? await openPostgres(opts.url) : await openPglite(opts.dataDir);
  try {
    await migrate(db, opts.url);
  } catch (e) {
    await db.destroy().catch(() => undefined);
    release?.();
    throw e;
  }
  return createKyselyStore(db, { kind, url: opts.url, onClose: release });
}

interface Opened {
  db: Kysely<Database>;
  kind: Store['kind'];
  /** Called once the database is closed. */
  release?: () => void;
}

async function openPglite(dataDir: string | undefined): Promise<Opened> {
  const [{ PGlite }, { PGliteDialect }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('kysely-pglite-dialect'),
  ]);
  const release = dataDir ? lockDataDir(dataDir) : undefined;
  let pglite: InstanceType<typeof PGlite>;
  try {
    pglite = await PGlite.create(dataDir ? { dataDir } : {});
  } catch (e) {
    release?.();
    throw new OptimusError(
      'STORE_OPEN_FAILED',
      `cannot open the embedded store${dataDir ? ` in ${dataDir}` : ''}: ${(e as Error)?.message ?? e}`,
      {
        category: 'io',
        cause: e,
        hint: 'check that the data directory is writable and not used by another running server',
      },
    );
  }
  return { db: new Kysely<Database>({ dialect: new PGliteDialect(pglite) }), kind: 'pglite', release };
}

async function openPostgres(url: string): Promise<Opened> {
  const { default: pg } = await import('pg');
  let pool: InstanceType<typeof pg.Pool>;
  try {
    pool = new pg.Pool({
      connectionString: url,
      max: 10,
      connectionTimeoutMillis: 10_000,
      application_name: 'optimus',
    });
  } catch (e) {
    throw unreachable(e, url);
  }
  // An idle client losing its connection is reported here; the next query fails and is
  // translated, so the event only needs a listener (without one, it would crash the process).
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    client.release();
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw unreachable(e, url);
  }
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), kind: 'postgres' };
}

async function migrate(db: Kysely<Database>, url: string | undefined): Promise<void> {
  // Kysely looks for its migration table in every schema unless told which: name the current one
  // (the URL may set search_path), or a store next to another one in the same database would
  // find the other's table and never create its own.
  let error: unknown;
  try {
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    const schema = rows[0]?.schema ?? undefined;
    ({ error } = await new Migrator({
      db,
      provider: migrationProvider,
      migrationTableSchema: schema,
    }).migrateToLatest());
  } catch (e) {
    error = e;
  }
  if (!error) return;
  if (url && isConnectionError(error)) throw unreachable(error, url);
  const message = scrub(String((error as Error)?.message ?? error), url);
  throw new OptimusError('STORE_MIGRATION_FAILED', `cannot bring the store's schema up to date: ${message}`, {
    category: 'io',
    hint: /corrupted migrations/.test(message)
      ? 'the database was migrated by a newer Optimus: upgrade this server'
      : 'check the database permissions (the store creates its own tables)',
  });
}
