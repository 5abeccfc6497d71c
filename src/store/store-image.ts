/**
 * The store image: a pre-initialised, migrated embedded data directory made at build time
 * (`npm run build` runs scripts/build-store-image.js), so that a new data directory starts in about
 * a second instead of running initdb (10–20 s, and the process then holds ~800 MB).
 *
 * The image is PGlite's own dump (`dumpDataDir()`, a gzipped tar) of a migrated in-memory store. A
 * new data directory is made by unpacking it and opening the directory as usual, not through
 * PGlite's `loadDataDir`: that unpacks it inside PGlite's file system layer and leaves the process
 * about 75 MB larger for its whole life. In-memory stores (tests) have no directory to extract
 * into, so they do use `loadDataDir`.
 *
 * It is a generated artefact under dist/ (not committed). A missing or unreadable image is not an
 * error: the store is then created from nothing, with a note saying why it is slow.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/**
 * Where the build writes the image: dist/store-image/ under the package root, which is two levels
 * above this module both in src/store/ (tests) and in dist/store/ (the built CLI).
 */
export const STORE_IMAGE_FILE = fileURLToPath(
  new URL('../../dist/store-image/pglite.tar.gz', import.meta.url),
);

/**
 * Marks a data directory whose creation has not finished (image extracted but never opened, or
 * initdb interrupted). A directory holding it has no user data yet and is created again.
 */
const CREATING = 'optimus-store.creating';

/** What a PostgreSQL data directory holds; only these are removed when a creation starts over. */
const PG_ENTRY = /^(PG_VERSION|base|global|pg_[a-z_]+|postgresql(\.auto)?\.conf|postmaster\.(pid|opts))$/;

/** Whether `dataDir` holds a store whose creation finished. */
export function isCreatedDataDir(dataDir: string): boolean {
  return existsSync(join(dataDir, 'PG_VERSION')) && !existsSync(join(dataDir, CREATING));
}

/** Start (or start again) the creation of the store in `dataDir`: clear what an earlier try left. */
export function beginCreation(dataDir: string): void {
  writeFileSync(join(dataDir, CREATING), `${process.pid}\n`);
  clearStoreFiles(dataDir);
}

export function finishCreation(dataDir: string): void {
  rmSync(join(dataDir, CREATING), { force: true });
}

/** Remove the PostgreSQL files of a creation that failed, leaving anything else in the directory. */
export function clearStoreFiles(dataDir: string): void {
  for (const name of readdirSync(dataDir)) {
    if (PG_ENTRY.test(name)) rmSync(join(dataDir, name), { recursive: true, force: true });
  }
}

/**
 * Unpack the image into `dataDir`. The image is a plain ustar archive (PGlite's dump format) made by
 * our own build, so it is read here in one piece: about 0.2 s of CPU against 0.9 s through node-tar
 * for its ~1,000 entries, which was most of a first start. Only directories and regular files are
 * accepted, each header's checksum must hold and no path may leave the directory: anything else
 * means a damaged image, and the store is then created from nothing. The dump is taken from a
 * running store, so it carries that store's postmaster.pid: left out, as the lock file of a process
 * that never ran here.
 */
export function extractImage(file: string, dataDir: string): void {
  const tar = gunzipSync(readFileSync(file));
  let at = 0;
  for (;;) {
    if (at + BLOCK > tar.length) throw new Error('the archive ends without its end-of-archive blocks');
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    if (!checksumHolds(header)) throw new Error(`bad header checksum at byte ${at}`);
    const name = field(header, 0, 100);
    const prefix = field(header, 257, 6) === 'ustar' ? field(header, 345, 155) : '';
    const path = (prefix ? `${prefix}/${name}` : name).replace(/^\/+/, '').replace(/\/+$/, '');
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] ?? 0);
    const segments = path.split('/');
    if (!path || segments.some((s) => s === '' || s === '.' || s === '..'))
      throw new Error(`entry "${path}" is not a plain relative path`);
    const data = tar.subarray(at + BLOCK, at + BLOCK + size);
    if (data.length !== size) throw new Error(`entry "${path}" is cut short`);
    const target = join(dataDir, ...segments);
    if (type === '5') mkdirSync(target, { recursive: true, mode: 0o700 });
    else if (type === '0' || type === '\0') {
      if (!/^postmaster\.(pid|opts)$/.test(path)) {
        mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
        writeFileSync(target, data, { mode: 0o600 });
      }
    } else
      throw new Error(`entry "${path}" is neither a file nor a directory (type ${JSON.stringify(type)})`);
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  if (!existsSync(join(dataDir, 'PG_VERSION'))) throw new Error('the image holds no PG_VERSION file');
}

const BLOCK = 512;

/** A NUL-terminated text field of a tar header. */
function field(header: Uint8Array, start: number, length: number): string {
  const bytes = header.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return Buffer.from(end < 0 ? bytes : bytes.subarray(0, end)).toString('utf8');
}

function octal(header: Uint8Array, start: number, length: number): number {
  const text = field(header, start, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new Error(`bad number "${text}" in a tar header`);
  return text ? Number.parseInt(text, 8) : 0;
}

/** The header's bytes summed with its checksum field counted as spaces equal that field. */
function checksumHolds(header: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return sum === octal(header, 148, 8);
}

/** The image as a Blob for `loadDataDir` (in-memory stores), or undefined when unreadable. */
export function imageBlob(file: string): Blob | undefined {
  try {
    return new Blob([readFileSync(file)], { type: 'application/gzip' });
  } catch {
    return undefined;
  }
}

/** Write the image atomically: a reader never sees half of it. */
export function writeImage(file: string, bytes: Uint8Array): void {
  const tmp = join(dirname(file), `.${process.pid}.tmp`);
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
}
