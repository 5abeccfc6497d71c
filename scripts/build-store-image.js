// Make the store image (dist/store-image/pglite.tar.gz) after `tsc`: a migrated embedded store that
// `optimus serve` copies into a new data directory instead of creating one from nothing (see
// src/store/store-image.ts). Making it takes several seconds, so it is made again only when what
// goes into it changed: the PGlite version, the compiled migrations, or the code that builds it.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const image = join(dist, 'store-image', 'pglite.tar.gz');
const stamp = join(dist, 'store-image', 'inputs.sha256');

const hash = createHash('sha256');
hash.update(readFileSync(join(root, 'node_modules/@electric-sql/pglite/package.json')));
for (const file of ['store/create-store.js', 'store/store-image.js'])
  hash.update(readFileSync(join(dist, file)));
const migrations = join(dist, 'store/migrations');
for (const name of readdirSync(migrations)
  .filter((f) => f.endsWith('.js'))
  .sort()) {
  hash.update(name);
  hash.update(readFileSync(join(migrations, name)));
}
const inputs = hash.digest('hex');

if (existsSync(image) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === inputs) {
  console.log(`store image up to date: ${image}`);
} else {
  const { buildStoreImage } = await import('../dist/store/create-store.js');
  const t0 = performance.now();
  const bytes = await buildStoreImage(image);
  writeFileSync(stamp, `${inputs}\n`);
  console.log(
    `store image written: ${image} (${(bytes / 1024 / 1024).toFixed(1)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
}
