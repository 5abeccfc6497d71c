/** S3 (s3rver through @aws-sdk/client-s3) and GCS (a small JSON API server through @google-cloud/storage). */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPluginsConfig } from '../../src/plugins/install/config.js';
import { installPlugins } from '../../src/plugins/install/installer.js';
import { available } from '../../src/plugins/install/status.js';
import { binaryPlugin, specYaml, tarGz, tempDir, writeConfig } from './helpers.js';

const S3_KEY = 'S3RVER';
const S3_SECRET = 'S3RVER';

describe('s3 provider', () => {
  let s3: S3rver;
  let endpoint: string;
  beforeAll(async () => {
    s3 = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: tempDir('s3rver-'),
      configureBuckets: [{ name: 'plugins', configs: [] }],
    });
    const addr = (await s3.run()) as { port: number };
    endpoint = `http://127.0.0.1:${addr.port}`;
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_SECRET },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const put = (Key: string, Body: Buffer | string) =>
      client.send(new PutObjectCommand({ Bucket: 'plugins', Key, Body }));
    await put('team/audit.yaml', specYaml('audit', '1.4.0'));
    await put(
      'team/checker.tar.gz',
      tarGz([{ path: 'checker', data: binaryPlugin('checker', '0.9.0'), mode: 0o755 }]),
    );
    client.destroy();
  });
  afterAll(async () => {
    await s3.close();
  });

  function project(list: string) {
    const dir = tempDir();
    const providers = `providers:
  - {name: bucket, type: s3, bucket: plugins, prefix: team, region: us-east-1, endpoint: "${endpoint}", force_path_style: true, access_key_id: "\${AK}", secret_access_key: "\${SK}"}
`;
    const { section } = loadPluginsConfig(writeConfig(dir, `${providers}list:\n${list}`));
    return { dir, section: section! };
  }

  it('installs a spec and an archive from a bucket, by provider-relative key and by s3:// URL', async () => {
    const { dir, section } = project(
      '  - {name: audit, provider: bucket, url: audit.yaml}\n  - {name: checker, provider: bucket, url: "s3://plugins/team/checker.tar.gz"}',
    );
    const report = await installPlugins(section, { env: { AK: S3_KEY, SK: S3_SECRET } });
    expect(report.results.map((r) => [r.name, r.status, r.version])).toEqual([
      ['audit', 'installed', '1.4.0'],
      ['checker', 'installed', '0.9.0'],
    ]);
    expect(existsSync(join(dir, '.plugins', 'checker'))).toBe(true);
  });

  it('reports a missing object as not found', async () => {
    const { section } = project('  - {name: nope, provider: bucket, url: nope.yaml}');
    const report = await installPlugins(section, { env: { AK: S3_KEY, SK: S3_SECRET } });
    expect(report.results[0]!.error).toMatchObject({
      code: 'PLUGIN_ARTIFACT_NOT_FOUND',
      message: 's3://plugins/team/nope.yaml: not found',
    });
  });

  it('lists what the bucket offers and marks what is installed', async () => {
    const { section } = project('  - {name: audit, provider: bucket, url: audit.yaml}');
    await installPlugins(section, { env: { AK: S3_KEY, SK: S3_SECRET } });
    const [offer] = await available(section, [], { env: { AK: S3_KEY, SK: S3_SECRET } });
    expect(offer!.artifacts.map((a) => [a.ref, a.installedAs])).toEqual([
      ['audit.yaml', 'audit'],
      ['checker.tar.gz', undefined],
    ]);
  });
});

describe('gcs provider', () => {
  const objects = new Map<string, Buffer>();
  let server: Server;
  let endpoint: string;
  const requests: string[] = [];
  beforeAll(async () => {
    objects.set('acme/optimus/notify.yaml', Buffer.from(specYaml('notify', '2.0.0')));
    objects.set(
      'acme/optimus/bin/rc.tgz',
      tarGz([{ path: 'rc', data: binaryPlugin('rc', '0.3.0'), mode: 0o755 }]),
    );
    // The three calls @google-cloud/storage makes here: metadata, media download and listing.
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const url = new URL(req.url ?? '/', 'http://x');
      const m = /^\/storage\/v1\/b\/([^/]+)\/o(?:\/(.+))?$/.exec(url.pathname);
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (!m) return json(404, { error: { code: 404, message: 'no such route' } });
      const bucket = m[1]!;
      if (!m[2]) {
        const prefix = url.searchParams.get('prefix') ?? '';
        const items = [...objects.keys()]
          .filter((k) => k.startsWith(`${bucket}/${prefix}`))
          .map((k) => ({
            kind: 'storage#object',
            name: k.slice(bucket.length + 1),
            bucket,
            size: String(objects.get(k)!.length),
          }));
        return json(200, { kind: 'storage#objects', items });
      }
      const name = decodeURIComponent(m[2]);
      const data = objects.get(`${bucket}/${name}`);
      if (!data) return json(404, { error: { code: 404, message: `No such object: ${bucket}/${name}` } });
      if (url.searchParams.get('alt') === 'media')
        return res.writeHead(200, { 'content-length': String(data.length) }).end(data);
      return json(200, { kind: 'storage#object', name, bucket, size: String(data.length) });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  function project(list: string) {
    const dir = tempDir();
    const providers = `providers:\n  - gcs: {name: team, location: "gs://acme/optimus", endpoint: "${endpoint}"}\n`;
    const { section } = loadPluginsConfig(writeConfig(dir, `${providers}list:\n${list}`));
    return { dir, section: section! };
  }

  it('installs a spec and an archive through the GCS JSON API', async () => {
    const { section } = project(
      '  - {name: notify, provider: team, url: notify.yaml}\n  - {name: rc, provider: team, url: "gs://acme/optimus/bin/rc.tgz"}',
    );
    const report = await installPlugins(section);
    expect(report.results.map((r) => [r.name, r.status, r.kind, r.version])).toEqual([
      ['notify', 'installed', 'yaml', '2.0.0'],
      ['rc', 'installed', 'binary', '0.3.0'],
    ]);
    expect(requests.some((r) => r.includes('/o/optimus%2Fbin%2Frc.tgz?alt=media'))).toBe(true);
  });

  it('reports a missing object as not found', async () => {
    const { section } = project('  - {name: gone, provider: team, url: gone.yaml}');
    const report = await installPlugins(section);
    expect(report.results[0]!.error).toMatchObject({
      code: 'PLUGIN_ARTIFACT_NOT_FOUND',
      message: 'gs://acme/optimus/gone.yaml: not found',
    });
  });

  it('lists what the bucket offers under its prefix', async () => {
    const { section } = project('  - {name: notify, provider: team, url: notify.yaml}');
    await installPlugins(section);
    const [offer] = await available(section, ['team']);
    expect(offer!.artifacts.map((a) => [a.ref, a.installedAs])).toEqual([
      ['bin/rc.tgz', undefined],
      ['notify.yaml', 'notify'],
    ]);
  });

  it('refuses a service_account that is neither a file nor base64 JSON, without echoing it', async () => {
    const dir = tempDir();
    const providers = `providers:\n  - {name: team, type: gcs, bucket: acme, endpoint: "${endpoint}", service_account: "\${SA}"}\n`;
    const { section } = loadPluginsConfig(
      writeConfig(dir, `${providers}list:\n  - {name: x, provider: team, url: x.yaml}`),
    );
    const report = await installPlugins(section!, { env: { SA: 'not-json-at-all-secret' } });
    expect(report.results[0]!.error!.code).toBe('PLUGIN_CREDENTIALS_INVALID');
    expect(JSON.stringify(report)).not.toContain('not-json-at-all-secret');
  });
});
