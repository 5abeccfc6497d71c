/**
 * A new embedded data directory starts from the store image the build makes. These tests use that
 * image when it is there (`npm test` builds first), else make one into a temp dir.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { Header } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStoreImage, createStore } from '../../src/store/create-store.js';
import { migrations } from '../../src/store/migrations/index.js';
import type { Store } from '../../src/store/store.js';
import { STORE_IMAGE_FILE } from '../../src/store/store-image.js';
import { tempDir } from '../helpers/temp-project.js';

let image = STORE_IMAGE_FILE;
let own: string | undefined;
beforeAll(async () => {
  if (existsSync(STORE_IMAGE_FILE)) return;
  own = join(tempDir(), 'pglite.tar.gz');
  await buildStoreImage(own);
  image = own;
}, 120_000);

/** A store in a new data directory, with the notes it gave. */
async function open(dataDir: string, imageFile: string): Promise<{ store: Store; notes: string[] }> {
  const notes: string[] = [];
  const store = await createStore({ dataDir, image: imageFile, onNote: (n) => notes.push(n) });
  return { store, notes };
}

/** The store answers and holds what it is given, through a close and a reopen. */
async function expectWorkingStore(dataDir: string, store: Store): Promise<void> {
  await store.upsertProject({ name: 'p', config: { K: 'v' }, pluginDependencies: [] });
  await store.close();
  const again = await createStore({ dataDir });
  try {
    expect(await again.getProject('p')).toMatchObject({ config: { K: 'v' } });
  } finally {
    await again.close();
  }
}

describe('the store image', () => {
  it('starts a new data directory from the image, migrated, without a note', async () => {
    const dataDir = join(tempDir(), 'store');
    const { store, notes } = await open(dataDir, image);
    expect(notes).toEqual([]);
    expect(readdirSync(dataDir).filter((f) => f.startsWith('optimus-store.creating'))).toEqual([]);
    await expectWorkingStore(dataDir, store);
  });

  it('applies the migrations an older image does not have', async () => {
    // An image made before the current migrations: the built one with its tables dropped.
    const pglite = await PGlite.create({ loadDataDir: new Blob([readFileSync(image)]) });
    await pglite.exec('drop schema public cascade; create schema public;');
    await pglite.exec('CHECKPOINT');
    const old = join(tempDir(), 'old.tar.gz');
    writeFileSync(old, new Uint8Array(await (await pglite.dumpDataDir('gzip')).arrayBuffer()));
    await pglite.close();

    const dataDir = join(tempDir(), 'store');
    const { store, notes } = await open(dataDir, old);
    expect(notes).toEqual([]);
    await expectWorkingStore(dataDir, store);
    const check = await PGlite.create({ dataDir });
    try {
      const { rows } = await check.query<{ name: string }>('select name from kysely_migration order by name');
      expect(rows.map((r) => r.name)).toEqual(Object.keys(migrations));
    } finally {
      await check.close();
    }
  }, 60_000);

  it('creates the store from nothing, saying why, when there is no image', async () => {
    const dataDir = join(tempDir(), 'store');
    const missing = join(tempDir(), 'nowhere.tar.gz');
    const { store, notes } = await open(dataDir, missing);
    expect(notes).toEqual([expect.stringContaining(`there is no store image at ${missing}`)]);
    expect(notes[0]).toContain('npm run build');
    await expectWorkingStore(dataDir, store);
  }, 120_000);

  it('creates the store from nothing, saying why, when the image is damaged', async () => {
    const dataDir = join(tempDir(), 'store');
    const damaged = join(tempDir(), 'damaged.tar.gz');
    writeFileSync(damaged, readFileSync(image).subarray(0, 100_000));
    const { store, notes } = await open(dataDir, damaged);
    expect(notes).toEqual([expect.stringContaining(`the store image ${damaged} cannot be used`)]);
    await expectWorkingStore(dataDir, store);
  }, 120_000);

  it('refuses an image entry that would land outside the data directory', async () => {
    const root = tempDir();
    const dataDir = join(root, 'store');
    const entry = (path: string, body: string) => {
      const header = Buffer.alloc(512);
      new Header({ path, type: 'File', size: body.length, mode: 0o600, mtime: new Date() }).encode(header, 0);
      const data = Buffer.alloc(Math.ceil(body.length / 512) * 512);
      data.write(body);
      return [header, data];
    };
    const hostile = join(root, 'hostile.tar.gz');
    writeFileSync(
      hostile,
      gzipSync(
        Buffer.concat([...entry('PG_VERSION', '17\n'), ...entry('../escaped', 'x'), Buffer.alloc(1024)]),
      ),
    );
    const { store, notes } = await open(dataDir, hostile);
    expect(notes).toEqual([expect.stringContaining('entry "../escaped" is not a plain relative path')]);
    expect(existsSync(join(root, 'escaped'))).toBe(false);
    await expectWorkingStore(dataDir, store);
  }, 120_000);

  it('creates again a data directory whose creation was interrupted', async () => {
    const dataDir = join(tempDir(), 'store');
    // What a kill during the first start leaves: part of a cluster and the creation marker.
    mkdirSync(join(dataDir, 'base', '1'), { recursive: true });
    writeFileSync(join(dataDir, 'PG_VERSION'), '17\n');
    writeFileSync(join(dataDir, 'base', '1', 'half-written'), 'x');
    writeFileSync(join(dataDir, 'optimus-store.creating'), '12345\n');
    writeFileSync(join(dataDir, 'notes.txt'), 'not the store’s');
    const { store, notes } = await open(dataDir, image);
    expect(notes).toEqual([]);
    expect(existsSync(join(dataDir, 'base', '1', 'half-written'))).toBe(false);
    expect(existsSync(join(dataDir, 'optimus-store.creating'))).toBe(false);
    expect(readFileSync(join(dataDir, 'notes.txt'), 'utf8')).toBe('not the store’s');
    await expectWorkingStore(dataDir, store);
  });
});

describe('an in-memory store', () => {
  let store: Store | undefined;
  afterAll(async () => {
    await store?.close();
  });
  it('starts from the image too, migrated', async () => {
    const notes: string[] = [];
    store = await createStore({ image, onNote: (n) => notes.push(n) });
    expect(notes).toEqual([]);
    await store.upsertProject({ name: 'p', config: {}, pluginDependencies: [] });
    expect((await store.listProjects()).map((p) => p.name)).toEqual(['p']);
  });
});
