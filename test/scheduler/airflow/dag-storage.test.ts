/**
 * One contract suite for DAG storage, run against every kind: a folder (file://), S3 (s3rver through
 * @aws-sdk/client-s3) and GCS (a small stand-in of the GCS JSON API through @google-cloud/storage);
 * then the incremental sync over a folder, and the URL rules.
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../../src/plugins/install/config.js';
import {
  type DagStorage,
  MANIFEST_PATH,
  openDagStorage,
  syncDags,
} from '../../../src/scheduler/airflow/dag-storage.js';
import { tempDir } from '../../helpers/temp-project.js';

const S3_KEY = 'S3RVER';
const envRef = (name: string) => `\${${name}}`;
const S3_SECRET = 'S3RVER';

function storageContract(name: string, open: () => Promise<DagStorage>) {
  describe(`${name} storage`, () => {
    it('writes, reads back, lists under its prefix and deletes', async () => {
      const s = await open();
      await s.put('dags/ns/a.py', 'print("a")\n');
      await s.put('dags/__lib.py', 'lib = 1\n');
      expect(await s.read('dags/ns/a.py')).toBe('print("a")\n');
      expect((await s.list()).sort()).toEqual(['dags/__lib.py', 'dags/ns/a.py']);
      await s.put('dags/ns/a.py', 'print("a2")\n');
      expect(await s.read('dags/ns/a.py')).toBe('print("a2")\n');
      await s.delete('dags/ns/a.py');
      expect(await s.read('dags/ns/a.py')).toBeUndefined();
      expect(await s.list()).toEqual(['dags/__lib.py']);
    });

    it('treats deleting a missing file as done', async () => {
      const s = await open();
      await expect(s.delete('dags/never/there.py')).resolves.toBeUndefined();
    });

    it('refuses keys that would leave the storage path', async () => {
      const s = await open();
      for (const key of ['../x.py', '/etc/x.py', 'dags/../../x.py', 'dags//x.py', ''])
        await expect(s.put(key, 'x'), key).rejects.toMatchObject({ code: 'DAG_KEY_INVALID' });
    });

    it('syncs only what changed and deletes only files it wrote', async () => {
      const s = await open();
      await s.put('dags/theirs.py', 'someone else\n');
      const first = await syncDags(
        s,
        new Map([
          ['dags/ns/a.py', 'a\n'],
          ['dags/ns/b.py', 'b\n'],
        ]),
      );
      expect(first).toEqual({ written: ['dags/ns/a.py', 'dags/ns/b.py'], deleted: [], unchanged: 0 });
      const second = await syncDags(
        s,
        new Map([
          ['dags/ns/a.py', 'a changed\n'],
          ['dags/ns/c.py', 'c\n'],
        ]),
      );
      expect(second).toEqual({
        written: ['dags/ns/a.py', 'dags/ns/c.py'],
        deleted: ['dags/ns/b.py'],
        unchanged: 0,
      });
      expect((await s.list()).sort()).toEqual([
        MANIFEST_PATH,
        'dags/ns/a.py',
        'dags/ns/c.py',
        'dags/theirs.py',
      ]);
      expect(await s.read('dags/theirs.py')).toBe('someone else\n');
    });
  });
}

const folder = () => pathToFileURL(tempDir()).href;

storageContract('file://', async () => openDagStorage(folder(), { field: 'STORAGE_PATH' }));

describe('against buckets', () => {
  let s3: S3rver;
  let s3Endpoint: string;
  const objects = new Map<string, Buffer>();
  let gcs: Server;
  let gcsEndpoint: string;
  let bucketRun = 0;

  beforeAll(async () => {
    s3 = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: tempDirOutsideTests('s3rver'),
      configureBuckets: [{ name: 'dags', configs: [] }],
    });
    s3Endpoint = `http://127.0.0.1:${((await s3.run()) as { port: number }).port}`;
    gcs = createServer(gcsStandIn(objects));
    await new Promise<void>((r) => gcs.listen(0, '127.0.0.1', () => r()));
    gcsEndpoint = `http://127.0.0.1:${(gcs.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await s3.close();
    gcs.closeAllConnections();
    await new Promise((r) => gcs.close(r));
  });

  const s3Provider = (bucket = 'dags'): ProviderConfig => ({
    name: 'bucket',
    type: 's3',
    bucket,
    region: 'us-east-1',
    endpoint: s3Endpoint,
    force_path_style: true,
    access_key_id: envRef('AK'),
    secret_access_key: envRef('SK'),
    at: { file: 'server.yaml', path: ['plugins', 'providers', 0] },
  });

  storageContract('s3://', async () =>
    openDagStorage(`s3://dags/team/run${++bucketRun}`, {
      field: 'scheduler.storage_path',
      providers: [s3Provider()],
      env: { AK: S3_KEY, SK: S3_SECRET },
    }),
  );

  storageContract('gs://', async () =>
    openDagStorage(`gs://acme/run${++bucketRun}`, {
      field: 'scheduler.storage_path',
      providers: [
        {
          name: 'team',
          type: 'gcs',
          bucket: 'acme',
          endpoint: gcsEndpoint,
          at: { file: 'server.yaml', path: ['plugins', 'providers', 1] },
        },
      ],
    }),
  );

  it("names a provider's missing credential variable, never a value", async () => {
    await expect(
      openDagStorage('s3://dags/x', { field: 'scheduler.storage_path', providers: [s3Provider()], env: {} }),
    ).rejects.toMatchObject({ code: 'PLUGIN_ENV_MISSING', message: expect.stringContaining('AK') });
  });

  it('reports a failed write as a storage failure without echoing credentials', async () => {
    const s = await openDagStorage('s3://no-such-bucket/x', {
      field: 'scheduler.storage_path',
      providers: [s3Provider('no-such-bucket')],
      env: { AK: S3_KEY, SK: 'not-the-secret-key' },
    });
    const e = await s.put('dags/a.py', 'a').catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'DAG_STORAGE_FAILED' });
    expect(JSON.stringify({ m: (e as Error).message, h: (e as { hint?: string }).hint })).not.toContain(
      'not-the-secret-key',
    );
  });
});

describe('sync over a folder', () => {
  const files = (n: number, tag = '') =>
    new Map(Array.from({ length: n }, (_, i) => [`dags/ns/job${i}.py`, `job ${i}${tag}\n`]));

  it('writes nothing when nothing changed', async () => {
    const s = await openDagStorage(folder(), { field: 'STORAGE_PATH' });
    await syncDags(s, files(5));
    expect(await syncDags(s, files(5))).toEqual({ written: [], deleted: [], unchanged: 5 });
  });

  it('writes again a file removed by hand although the manifest records it', async () => {
    const url = folder();
    const s = await openDagStorage(url, { field: 'STORAGE_PATH' });
    await syncDags(s, files(3));
    await s.delete('dags/ns/job1.py');
    expect(await syncDags(s, files(3))).toEqual({ written: ['dags/ns/job1.py'], deleted: [], unchanged: 2 });
  });

  it('keeps a file it is told to keep although it is no longer compiled', async () => {
    const s = await openDagStorage(folder(), { field: 'STORAGE_PATH' });
    await syncDags(s, files(3));
    const two = files(2);
    expect(await syncDags(s, two, { keep: new Set(['dags/ns/job2.py']) })).toEqual({
      written: [],
      deleted: [],
      unchanged: 2,
    });
    // Kept means still owned: once no longer kept, it is deleted.
    expect((await syncDags(s, two)).deleted).toEqual(['dags/ns/job2.py']);
  });

  it('repairs a sync that failed midway: new files it wrote are still deleted later', async () => {
    const root = tempDir();
    const s = await openDagStorage(pathToFileURL(root).href, { field: 'STORAGE_PATH' });
    await syncDags(s, files(2));
    // A storage that fails on the third write of this sync.
    let writes = 0;
    const flaky: DagStorage = {
      ...s,
      async put(key, text) {
        if (key !== MANIFEST_PATH && ++writes === 3)
          throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
        return s.put(key, text);
      },
    };
    const next = files(6, ' v2');
    await expect(syncDags(flaky, next, { concurrency: 1 })).rejects.toThrow('disk full');
    // The job set shrinks before the next sync succeeds: every file the failed sync wrote goes.
    const report = await syncDags(s, files(1, ' v2'));
    expect(report.written).toEqual(['dags/ns/job0.py']);
    expect(report.deleted).toEqual([
      'dags/ns/job1.py',
      'dags/ns/job2.py',
      'dags/ns/job3.py',
      'dags/ns/job4.py',
      'dags/ns/job5.py',
    ]);
    expect(readdirSync(join(root, 'dags', 'ns'))).toEqual(['job0.py']);
    expect(readFileSync(join(root, 'dags', 'ns', 'job0.py'), 'utf8')).toBe('job 0 v2\n');
  });

  it('starts afresh from an unreadable manifest, deleting nothing', async () => {
    const root = tempDir();
    const s = await openDagStorage(pathToFileURL(root).href, { field: 'STORAGE_PATH' });
    await syncDags(s, files(2));
    writeFileSync(join(root, MANIFEST_PATH), '{"version": 1, "fil');
    expect(await syncDags(s, files(1))).toEqual({ written: ['dags/ns/job0.py'], deleted: [], unchanged: 0 });
    expect(existsSync(join(root, 'dags', 'ns', 'job1.py'))).toBe(true);
  });

  it('leaves no temp file behind and never lists one', async () => {
    const root = tempDir();
    const s = await openDagStorage(pathToFileURL(root).href, { field: 'STORAGE_PATH' });
    mkdirSync(join(root, 'dags'), { recursive: true });
    writeFileSync(join(root, 'dags', 'a.py.tmp-0123456789ab'), 'half');
    await syncDags(s, files(2));
    expect((await s.list()).sort()).toEqual([
      'dags/.optimus-manifest.json',
      'dags/ns/job0.py',
      'dags/ns/job1.py',
    ]);
    expect(readdirSync(join(root, 'dags', 'ns')).sort()).toEqual(['job0.py', 'job1.py']);
  });
});

describe('storage path rules', () => {
  it.each([
    ['http://example.com/dags', 'unsupported scheme "http"'],
    ['/var/dags', 'not a URL'],
    ['file://relative/dags', 'must be absolute'],
    ['file:///var/../etc', '".."'],
    ['s3:///prefix', 'names no bucket'],
  ])('refuses %s naming the setting', async (url, why) => {
    const e = await openDagStorage(url, { field: 'project config STORAGE_PATH' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'DAG_STORAGE_INVALID' });
    expect((e as Error).message).toContain('project config STORAGE_PATH');
    expect((e as Error).message).toContain(why);
    expect((e as { hint: string }).hint).toContain('s3://bucket/prefix');
  });

  it('never shows user info of a URL in its messages', async () => {
    const e = await openDagStorage('ftp://user:pa55word@host/x', { field: 'STORAGE_PATH' }).catch(
      (x: unknown) => x,
    );
    expect((e as Error).message).not.toContain('pa55word');
  });
});

/** s3rver's folder, removed with the test's temp dirs (tempDir of the helpers is per test). */
function tempDirOutsideTests(name: string): string {
  const dir = join(suiteRoot, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
let suiteRoot = '';
beforeAll(async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  suiteRoot = mkdtempSync(join(tmpdir(), 'optimus-dag-storage-'));
});
afterAll(async () => {
  const { rmSync } = await import('node:fs');
  rmSync(suiteRoot, { recursive: true, force: true });
});

/**
 * A stand-in of the GCS JSON API for what @google-cloud/storage does here: multipart upload, media
 * download, delete and listing by prefix.
 */
function gcsStandIn(objects: Map<string, Buffer>) {
  return (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
      if (upload && req.method === 'POST') {
        const body = Buffer.concat(chunks).toString('utf8');
        const boundary = /boundary="?([^";]+)"?/.exec(req.headers['content-type'] ?? '')?.[1] ?? '';
        const parts = body.split(`--${boundary}`).filter((p) => p.trim() && p.trim() !== '--');
        const content = (p: string) => p.slice(p.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, '');
        const meta = JSON.parse(content(parts[0]!)) as { name: string };
        const name = url.searchParams.get('name') ?? meta.name;
        objects.set(`${upload[1]}/${name}`, Buffer.from(content(parts[1]!)));
        return json(200, { kind: 'storage#object', name, bucket: upload[1] });
      }
      const m = /^\/storage\/v1\/b\/([^/]+)\/o(?:\/(.+))?$/.exec(url.pathname);
      if (!m) return json(404, { error: { code: 404, message: 'no such route' } });
      const bucket = m[1]!;
      if (!m[2]) {
        const prefix = url.searchParams.get('prefix') ?? '';
        const items = [...objects.keys()]
          .filter((k) => k.startsWith(`${bucket}/${prefix}`))
          .map((k) => ({ kind: 'storage#object', name: k.slice(bucket.length + 1), bucket }));
        return json(200, { kind: 'storage#objects', items });
      }
      const key = `${bucket}/${decodeURIComponent(m[2])}`;
      const data = objects.get(key);
      if (!data) return json(404, { error: { code: 404, message: 'No such object' } });
      if (req.method === 'DELETE') {
        objects.delete(key);
        return res.writeHead(204).end();
      }
      if (url.searchParams.get('alt') === 'media')
        return res.writeHead(200, { 'content-length': String(data.length) }).end(data);
      return json(200, { kind: 'storage#object', name: m[2], bucket, size: String(data.length) });
    });
  };
}
