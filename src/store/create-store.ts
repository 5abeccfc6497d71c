/**
 * Open the store: PostgreSQL when `url` is set, else embedded PGlite (in `dataDir`, or in memory),
 * then apply pending migrations. Drivers load lazily so a process only pays for the one it uses
 * (PGlite's WebAssembly takes a while to start). A new embedded data directory starts from the
 * store image made at build time (store-image.ts); migrations still run after, as the image may be
 * older than the code.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import { OptimusError } from '../core/errors.js';
import { lockDataDir } from './data-dir-lock.js';
import { createKyselyStore } from './kysely-store.js';
import { migrationProvider, migrations } from './migrations/index.js';
import type { Database } from './schema.js';
import type { Store, StoreOptions } from './store.js';
import { isConnectionError, scrub, unreachable } from './store-errors.js';
import {
  beginCreation,
  clearStoreFiles,
  extractImage,
  finishCreation,
  imageBlob,
  isCreatedDataDir,
  STORE_IMAGE_FILE,
  writeImage,
} from './store-image.js';

export { redactUrl } from './store-errors.js';

/** Options of the embedded store only. */
export interface EmbeddedStoreOptions {
  /** The store image a new data directory starts from (default: the one the build made). */
  image?: string;
  /** Told why a new embedded store is slow to create (no usable image), in words for a user. */
  onNote?: (note: string) => void;
}

/**
 * PostgreSQL's memory settings inside PGlite. Its default 128 MB of shared buffers lives in the
 * WebAssembly heap and is all touched at start, so it was most of what the process held at rest;
 * a store of this size (projects, secrets, jobs of a few KiB) is served as well from 32 MB, the
 * operating system's page cache holding the rest of the files. A WebAssembly heap never shrinks,
 * so a peak stays for the life of the process: maintenance work (index builds, vacuum) gets 16 MB
 * instead of 64. Given on every start, so existing data directories get them too.
 */
const MEMORY_SETTINGS = ['-c', 'shared_buffers=32MB', '-c', 'maintenance_work_mem=16MB'];

type PGliteClass = typeof import('@electric-sql/pglite').PGlite;
type PGliteInstance = InstanceType<PGliteClass>;

export async function createStore(opts: StoreOptions & EmbeddedStoreOptions): Promise<Store> {
  const { db, kind, release } = opts.url ? await openPostgres(opts.url) : await openPglite(opts);
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

async function openPglite(opts: StoreOptions & EmbeddedStoreOptions): Promise<Opened> {
  const { dataDir } = opts;
  const [{ PGlite }, { PGliteDialect }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('kysely-pglite-dialect'),
  ]);
  const release = dataDir ? lockDataDir(dataDir) : undefined;
  let pglite: PGliteInstance;
  try {
    pglite = dataDir ? await openDataDir(PGlite, dataDir, opts) : await openInMemory(PGlite, opts);
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

const startParams = (PGlite: PGliteClass) => [...PGlite.defaultStartParams, ...MEMORY_SETTINGS];

/**
 * Open the data directory, creating the store first when it has none: from the image when it is
 * there and usable, else from nothing (initdb). Until a creation has opened once, the directory
 * carries a marker, so one interrupted half-way is created again instead of opened.
 */
async function openDataDir(
  PGlite: PGliteClass,
  dataDir: string,
  opts: EmbeddedStoreOptions,
): Promise<PGliteInstance> {
  const options = { dataDir, startParams: startParams(PGlite) };
  if (isCreatedDataDir(dataDir)) return PGlite.create(options);
  const image = opts.image ?? STORE_IMAGE_FILE;
  beginCreation(dataDir);
  let why = `there is no store image at ${image}`;
  if (existsSync(image)) {
    try {
      extractImage(image, dataDir);
      const pglite = await PGlite.create(options);
      finishCreation(dataDir);
      return pglite;
    } catch (e) {
      why = `the store image ${image} cannot be used (${(e as Error)?.message ?? e})`;
      clearStoreFiles(dataDir);
    }
  }
  opts.onNote?.(
    `${why}: creating the store from nothing, which takes 10-20 s once; \`npm run build\` makes the image`,
  );
  const pglite = await PGlite.create(options);
  finishCreation(dataDir);
  return pglite;
}

async function openInMemory(PGlite: PGliteClass, opts: EmbeddedStoreOptions): Promise<PGliteInstance> {
  const options = { startParams: startParams(PGlite) };
  const blob = imageBlob(opts.image ?? STORE_IMAGE_FILE);
  if (blob) {
    try {
      return await PGlite.create({ ...options, loadDataDir: blob });
    } catch (e) {
      opts.onNote?.(
        `the store image cannot be used (${(e as Error)?.message ?? e}): creating the store from nothing`,
      );
    }
  }
  return PGlite.create(options);
}

/**
 * Make the store image: a migrated in-memory store, checkpointed (so a store started from it has
 * little to replay), dumped by PGlite. Returns the image's size in bytes.
 */
export async function buildStoreImage(file: string = STORE_IMAGE_FILE): Promise<number> {
  const [{ PGlite }, { PGliteDialect }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('kysely-pglite-dialect'),
  ]);
  // From nothing: an image must never be made from an older image.
  const pglite = await PGlite.create({ startParams: startParams(PGlite) });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  try {
    await migrate(db, undefined);
    await pglite.exec('CHECKPOINT');
    const dump = await pglite.dumpDataDir('gzip');
    const bytes = new Uint8Array(await dump.arrayBuffer());
    mkdirSync(dirname(file), { recursive: true });
    writeImage(file, bytes);
    return bytes.length;
  } finally {
    await db.destroy();
  }
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
    const { rows } = await sql<{ schema: string | null; migrated: boolean }>`
      select current_schema() as schema,
             to_regclass(format('%I.kysely_migration', current_schema())) is not null as migrated`.execute(
      db,
    );
    const schema = rows[0]?.schema ?? undefined;
    // Up to date (every start but the first after an upgrade): one read instead of the migrator's
    // table checks, lock and transaction, which cost a few hundred milliseconds on the embedded store.
    if (schema && rows[0]?.migrated && (await upToDate(db, schema))) return;
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

/** Whether the applied migrations are exactly the known ones (more is a newer Optimus's store). */
async function upToDate(db: Kysely<Database>, schema: string): Promise<boolean> {
  const { rows } = await sql<{
    name: string;
  }>`select name from ${sql.id(schema, 'kysely_migration')}`.execute(db);
  const known = Object.keys(migrations);
  const applied = new Set(rows.map((r) => r.name));
  return applied.size === known.length && known.every((name) => applied.has(name));
}
