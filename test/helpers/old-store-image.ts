/**
 * An embedded store image as an older server made it: only `applied` migrations, then `seed`'s
 * rows, dumped to `<root>/old.tar.gz`. The upgrade tests open it with today's code.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, Migrator } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { buildStoreImage } from '../../src/store/create-store.js';
import { migrations } from '../../src/store/migrations/index.js';
import { STORE_IMAGE_FILE } from '../../src/store/store-image.js';

export async function oldStoreImage(
  root: string,
  applied: readonly string[],
  seed: (pglite: PGlite) => Promise<unknown>,
  /** Any image holds a PostgreSQL cluster; starting from one avoids a slow initdb. */
  base?: string,
): Promise<string> {
  let from = base ?? STORE_IMAGE_FILE;
  if (!existsSync(from)) {
    from = join(root, 'current.tar.gz');
    await buildStoreImage(from);
  }
  const pglite = await PGlite.create({ loadDataDir: new Blob([readFileSync(from)]) });
  const db = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) });
  try {
    await pglite.exec('drop schema public cascade; create schema public;');
    const { error } = await new Migrator({
      db,
      provider: { getMigrations: async () => Object.fromEntries(applied.map((n) => [n, migrations[n]!])) },
    }).migrateToLatest();
    if (error) throw error;
    await seed(pglite);
    await pglite.exec('CHECKPOINT');
    const old = join(root, 'old.tar.gz');
    writeFileSync(old, new Uint8Array(await (await pglite.dumpDataDir('gzip')).arrayBuffer()));
    return old;
  } finally {
    await db.destroy();
  }
}
