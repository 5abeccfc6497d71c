/**
 * Where compiled DAG files go: a project's storage_path, as upstream Optimus names it: `file://` (a
 * folder on this machine), `s3://bucket/prefix` or `gs://bucket/prefix`. Credentials and endpoints
 * for buckets come from the server's `plugins.providers` entry of the same type and bucket (the
 * installer's providers), else the SDK's defaults. Keys are relative to the path, `/`-separated;
 * a key that could leave the path is refused before anything is sent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OptimusError } from '../../core/errors.js';
import type { ProviderConfig } from '../../plugins/install/config.js';
import { gcsStorageOptions, s3ClientConfig } from '../../plugins/install/providers/cloud-config.js';
import { createRedactor, expandEnv, type Redactor } from '../../plugins/install/secrets.js';

export interface DagStorage {
  /** The storage path as a user may see it (never a credential). */
  readonly url: string;
  /** Write `text` at `key`, replacing what was there. */
  put(key: string, text: string): Promise<void>;
  /** The text at `key`; undefined when there is none. */
  read(key: string): Promise<string | undefined>;
  /** Remove `key`; a key already gone is fine. */
  delete(key: string): Promise<void>;
  /** Every key under the path (relative, `/`-separated), in no particular order. */
  list(): Promise<string[]>;
}

export interface DagStorageOptions {
  /** The setting the URL came from, for messages: `STORAGE_PATH` (project config) or `scheduler.storage_path`. */
  field: string;
  /** The server's plugin providers: a bucket's credentials and endpoint come from the matching one. */
  providers?: readonly ProviderConfig[];
  env?: NodeJS.ProcessEnv;
}

const SCHEMES = 'file:///path, s3://bucket/prefix or gs://bucket/prefix';

/** A storage for `url`; refuses other schemes and paths with a `DAG_STORAGE_INVALID` error naming `opts.field`. */
export async function openDagStorage(url: string, opts: DagStorageOptions): Promise<DagStorage> {
  const invalid = (why: string) =>
    new OptimusError('DAG_STORAGE_INVALID', `${opts.field} "${displayStorageUrl(url)}": ${why}`, {
      category: 'invalid',
      hint: `set ${opts.field} to ${SCHEMES}`,
    });
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(\/.*)?$/i.exec(url.trim());
  if (!m) throw invalid('not a URL');
  const scheme = m[1]!.toLowerCase();
  const host = m[2]!;
  const path = m[3] ?? '';
  if (path.split('/').some((s) => s === '..' || s === '.'))
    throw invalid('must not contain "." or ".." segments');
  if (scheme === 'file') {
    if (host !== '' && host !== 'localhost') throw invalid('a file:// path must be absolute (file:///path)');
    if (path === '' || path === '/') throw invalid('names no folder');
    return createFileDagStorage(fileURLToPath(`file://${path}`), url);
  }
  if (scheme !== 's3' && scheme !== 'gs' && scheme !== 'gcs') throw invalid(`unsupported scheme "${scheme}"`);
  if (!host) throw invalid('names no bucket');
  const prefix = path.replace(/^\/+|\/+$/g, '');
  const type = scheme === 's3' ? 's3' : 'gcs';
  const provider = opts.providers?.find((p) => p.type === type && 'bucket' in p && p.bucket === host);
  const redactor = createRedactor();
  const env = opts.env ?? process.env;
  const x = (value: string | undefined, field: string, secret: boolean) =>
    value === undefined || !provider
      ? undefined
      : expandEnv(value, { at: provider.at, field: [field] }, env, redactor, secret);
  if (type === 's3') {
    const p = provider?.type === 's3' ? provider : undefined;
    return createS3DagStorage({
      bucket: host,
      prefix,
      redactor,
      ...(p?.region ? { region: x(p.region, 'region', false)! } : {}),
      ...(p?.endpoint ? { endpoint: x(p.endpoint, 'endpoint', false)! } : {}),
      ...(p?.force_path_style !== undefined ? { forcePathStyle: p.force_path_style } : {}),
      ...(p?.access_key_id ? { accessKeyId: x(p.access_key_id, 'access_key_id', true)! } : {}),
      ...(p?.secret_access_key
        ? { secretAccessKey: x(p.secret_access_key, 'secret_access_key', true)! }
        : {}),
      ...(p?.session_token ? { sessionToken: x(p.session_token, 'session_token', true)! } : {}),
    });
  }
  const p = provider?.type === 'gcs' ? provider : undefined;
  return createGcsDagStorage({
    bucket: host,
    prefix,
    redactor,
    ...(p?.endpoint ? { endpoint: x(p.endpoint, 'endpoint', false)! } : {}),
    ...(p?.service_account ? { serviceAccount: x(p.service_account, 'service_account', true)! } : {}),
  });
}

/** A storage URL as messages show it: user info and query dropped (they could carry credentials). */
export function displayStorageUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1').replace(/\?.*$/, '');
}

/** Refuse keys that are absolute, empty, or step outside the storage path. */
export function checkKey(key: string): string {
  const bad =
    key === '' ||
    key.startsWith('/') ||
    key.includes('\\') ||
    key.includes('\0') ||
    key.split('/').some((s) => s === '' || s === '.' || s === '..');
  if (bad)
    throw new OptimusError('DAG_KEY_INVALID', `"${key}" is not a relative path inside the storage path`, {
      category: 'internal',
      hint: 'DAG files are named by namespace and job; a name with "/" or ".." cannot be stored',
    });
  return key;
}

function storageError(what: string, op: string, e: unknown, redactor?: Redactor): OptimusError {
  if (e instanceof OptimusError) return e;
  const err = e as { name?: string; code?: number | string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode ?? (typeof err.code === 'number' ? err.code : undefined);
  const code = typeof err.code === 'string' ? err.code : undefined;
  const denied = status === 401 || status === 403 || code === 'EACCES' || code === 'EPERM';
  const detail = `${code ?? err.name ?? 'error'}${status ? ` (HTTP ${status})` : ''}`;
  return new OptimusError('DAG_STORAGE_FAILED', redactor?.redact(`${what}: cannot ${op}: ${detail}`) ?? '', {
    category: 'io',
    hint: denied
      ? 'check the credentials of the provider for this bucket (plugins.providers) or the folder permissions'
      : 'check the storage path, its bucket and endpoint; the next deploy or compile writes what is missing',
  });
}

/** Temp files of interrupted writes: never listed, so they are never taken for DAG files. */
const TEMP_RE = /\.tmp-[0-9a-f]{12}$/;

export function createFileDagStorage(root: string, url = `file://${root}`): DagStorage {
  const full = (key: string) => join(root, ...checkKey(key).split('/'));
  const what = (key?: string) => (key ? join(root, key) : root);
  // Folders made by this storage: one mkdir per folder, not per file (10,000 DAGs, a few namespaces).
  const made = new Set<string>();
  return {
    url,
    async put(key, text) {
      const path = full(key);
      // Written beside and renamed over: a reader (Airflow's scheduler) never sees half a file.
      const temp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
      try {
        const folder = dirname(path);
        if (!made.has(folder)) {
          await mkdir(folder, { recursive: true });
          made.add(folder);
        }
        // Synchronous: a DAG file is small, and three thread-pool round trips per file made a cold
        // sync of 10,000 DAGs three times slower than writing them (bench/dag-compile.bench.js).
        writeFileSync(temp, text);
        renameSync(temp, path);
      } catch (e) {
        // The folder may have been removed since: made again on the next write.
        made.delete(dirname(path));
        await rm(temp, { force: true }).catch(() => {});
        throw storageError(what(key), 'write', e);
      }
    },
    async read(key) {
      try {
        return await readFile(full(key), 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw storageError(what(key), 'read', e);
      }
    },
    async delete(key) {
      try {
        await rm(full(key), { force: true });
      } catch (e) {
        throw storageError(what(key), 'delete', e);
      }
    },
    async list() {
      let entries: string[];
      try {
        entries = (await readdir(root, { recursive: true, withFileTypes: true }))
          .filter((d) => d.isFile() && !TEMP_RE.test(d.name))
          .map((d) => join(d.parentPath, d.name).slice(root.length + 1));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw storageError(what(), 'list', e);
      }
      return sep === '/' ? entries : entries.map((k) => k.split(sep).join('/'));
    },
  };
}

interface BucketOptions {
  bucket: string;
  /** Without leading or trailing `/`; empty for the bucket's root. */
  prefix: string;
  redactor: Redactor;
}

const keyIn = (prefix: string, key: string) => (prefix ? `${prefix}/${checkKey(key)}` : checkKey(key));

export async function createS3DagStorage(
  opts: BucketOptions & {
    region?: string;
    endpoint?: string;
    forcePathStyle?: boolean;
    accessKeyId?: string;
    secretAccessKey?: string;
    sessionToken?: string;
  },
): Promise<DagStorage> {
  const { S3Client, PutObjectCommand, GetObjectCommand, DeleteObjectCommand, ListObjectsV2Command } =
    await import('@aws-sdk/client-s3');
  const client = new S3Client(s3ClientConfig(opts));
  const Bucket = opts.bucket;
  const base = `s3://${Bucket}${opts.prefix ? `/${opts.prefix}` : ''}`;
  const what = (key?: string) => (key ? `${base}/${key}` : base);
  return {
    url: base,
    async put(key, text) {
      const Key = keyIn(opts.prefix, key);
      try {
        await client.send(new PutObjectCommand({ Bucket, Key, Body: text, ContentType: 'text/x-python' }));
      } catch (e) {
        throw storageError(what(key), 'write', e, opts.redactor);
      }
    },
    async read(key) {
      const Key = keyIn(opts.prefix, key);
      try {
        const res = await client.send(new GetObjectCommand({ Bucket, Key }));
        return (await res.Body?.transformToString('utf8')) ?? '';
      } catch (e) {
        const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404) return undefined;
        throw storageError(what(key), 'read', e, opts.redactor);
      }
    },
    async delete(key) {
      const Key = keyIn(opts.prefix, key);
      try {
        await client.send(new DeleteObjectCommand({ Bucket, Key }));
      } catch (e) {
        throw storageError(what(key), 'delete', e, opts.redactor);
      }
    },
    async list() {
      const Prefix = opts.prefix ? `${opts.prefix}/` : undefined;
      const out: string[] = [];
      let token: string | undefined;
      do {
        try {
          const page = await client.send(
            new ListObjectsV2Command({
              Bucket,
              ...(Prefix ? { Prefix } : {}),
              ...(token ? { ContinuationToken: token } : {}),
            }),
          );
          for (const o of page.Contents ?? [])
            if (o.Key && !o.Key.endsWith('/')) out.push(Prefix ? o.Key.slice(Prefix.length) : o.Key);
          token = page.NextContinuationToken;
        } catch (e) {
          throw storageError(what(), 'list', e, opts.redactor);
        }
      } while (token);
      return out;
    },
  };
}

export async function createGcsDagStorage(
  opts: BucketOptions & { endpoint?: string; serviceAccount?: string },
): Promise<DagStorage> {
  const { Storage } = await import('@google-cloud/storage');
  const config = gcsStorageOptions(
    opts,
    () =>
      new OptimusError(
        'DAG_STORAGE_CREDENTIALS_INVALID',
        `gs://${opts.bucket}: the provider's service_account is neither a file nor base64 JSON`,
        {
          category: 'invalid',
          hint: 'set service_account to a key file path or to the base64 of its JSON',
        },
      ),
  );
  const bucket = new Storage(config).bucket(opts.bucket);
  const base = `gs://${opts.bucket}${opts.prefix ? `/${opts.prefix}` : ''}`;
  const what = (key?: string) => (key ? `${base}/${key}` : base);
  return {
    url: base,
    async put(key, text) {
      try {
        await bucket.file(keyIn(opts.prefix, key)).save(text, {
          resumable: false,
          // The object is small and rewritten whole; hash checks need headers not every endpoint sends.
          validation: false,
          contentType: 'text/x-python',
        });
      } catch (e) {
        throw storageError(what(key), 'write', e, opts.redactor);
      }
    },
    async read(key) {
      try {
        const [data] = await bucket.file(keyIn(opts.prefix, key)).download({ validation: false });
        return data.toString('utf8');
      } catch (e) {
        if ((e as { code?: number }).code === 404) return undefined;
        throw storageError(what(key), 'read', e, opts.redactor);
      }
    },
    async delete(key) {
      try {
        await bucket.file(keyIn(opts.prefix, key)).delete({ ignoreNotFound: true });
      } catch (e) {
        throw storageError(what(key), 'delete', e, opts.redactor);
      }
    },
    async list() {
      const prefix = opts.prefix ? `${opts.prefix}/` : undefined;
      try {
        const [files] = await bucket.getFiles(prefix ? { prefix } : {});
        return files
          .map((f) => f.name)
          .filter((n) => !n.endsWith('/'))
          .map((n) => (prefix ? n.slice(prefix.length) : n));
      } catch (e) {
        throw storageError(what(), 'list', e, opts.redactor);
      }
    },
  };
}

/** What this server or CLI wrote under a storage path: path → sha256 of the content. Written last. */
export const MANIFEST_PATH = 'dags/.optimus-manifest.json';

export interface SyncReport {
  /** Paths written (new or changed, or missing from the storage), sorted. */
  written: string[];
  /** Paths removed: listed in the manifest, no longer compiled. Sorted. */
  deleted: string[];
  unchanged: number;
}

export interface SyncOptions {
  /** sha256 of some of the texts, already known (from a compile cache): not hashed again. */
  hashes?: ReadonlyMap<string, string>;
  /** Paths to leave as they are (e.g. a job that could not be compiled this time keeps its last DAG). */
  keep?: ReadonlySet<string>;
  /** Writes and deletes in flight at once. */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

interface Manifest {
  version: 1;
  files: Record<string, string>;
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

async function readManifest(storage: DagStorage): Promise<Record<string, string>> {
  const text = await storage.read(MANIFEST_PATH);
  if (text === undefined) return {};
  try {
    const m = JSON.parse(text) as Partial<Manifest>;
    if (m && typeof m.files === 'object' && m.files !== null && !Array.isArray(m.files)) {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.files)) if (typeof v === 'string') out[k] = v;
      return out;
    }
  } catch {
    // A manifest cut short or edited by hand: every file is written again and a fresh one follows.
  }
  return {};
}

function manifestText(files: Record<string, string>): string {
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(files).sort()) sorted[k] = files[k]!;
  return `${JSON.stringify({ version: 1, files: sorted } satisfies Manifest, null, 1)}\n`;
}

async function inBatches<T>(
  items: readonly T[],
  limit: number,
  f: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await f(item);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

/**
 * Make the storage hold exactly `files` among the files this sync owns: write those whose content
 * differs from the manifest (or that are missing), delete those the manifest lists and `files` no
 * longer has, then write the manifest. A file the manifest does not list is never deleted, so files
 * others put beside the DAGs survive.
 *
 * A failure midway throws and leaves the previous manifest, plus (when new paths were about to be
 * written) an interim one that already names them with no hash: the next sync then writes every
 * file whose hash is not recorded and deletes every file recorded but gone, which repairs it.
 */
export async function syncDags(
  storage: DagStorage,
  files: ReadonlyMap<string, string>,
  opts: SyncOptions = {},
): Promise<SyncReport> {
  for (const key of files.keys()) {
    checkKey(key);
    if (key === MANIFEST_PATH)
      throw new OptimusError('DAG_KEY_INVALID', `"${key}" is the sync manifest's own path`, {
        category: 'internal',
      });
  }
  const keep = opts.keep ?? new Set<string>();
  const [before, present] = await Promise.all([
    readManifest(storage),
    storage.list().then((l) => new Set(l)),
  ]);
  const after: Record<string, string> = {};
  const toWrite: [string, string][] = [];
  let unchanged = 0;
  for (const [key, text] of files) {
    const hash = opts.hashes?.get(key) ?? sha256(text);
    after[key] = hash;
    if (before[key] === hash && present.has(key)) unchanged++;
    else toWrite.push([key, text]);
  }
  const toDelete: string[] = [];
  for (const key of Object.keys(before)) {
    if (files.has(key)) continue;
    if (keep.has(key)) after[key] = before[key]!;
    else toDelete.push(key);
  }
  if (!toWrite.length && !toDelete.length && Object.keys(before).length === Object.keys(after).length)
    return { written: [], deleted: [], unchanged };

  // Claim new paths before writing them, so a sync that dies after writing one still owns it.
  const fresh = toWrite.filter(([k]) => !(k in before));
  if (fresh.length) {
    const interim = { ...before };
    for (const [k] of fresh) interim[k] = '';
    await storage.put(MANIFEST_PATH, manifestText(interim));
  }
  const total = toWrite.length + toDelete.length;
  let done = 0;
  const tick = () => opts.onProgress?.(++done, total);
  const limit = opts.concurrency ?? 16;
  await inBatches(toWrite, limit, async ([k, text]) => {
    await storage.put(k, text);
    tick();
  });
  await inBatches(toDelete, limit, async (k) => {
    await storage.delete(k);
    tick();
  });
  await storage.put(MANIFEST_PATH, manifestText(after));
  return { written: toWrite.map(([k]) => k).sort(), deleted: toDelete.sort(), unchanged };
}
