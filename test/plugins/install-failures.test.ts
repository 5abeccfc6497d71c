/**
 * Every way an install can fail leaves nothing behind: not in install_location (no `.optimus-tmp-*`,
 * no half-written plugin, no lock), not in the system temp folder. And a server that trickles or
 * stalls cannot hold an install for long.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPlugins } from '../../src/plugins/install/installer.js';
import { saveStream } from '../../src/plugins/install/providers/provider.js';
import {
  binaryPlugin,
  brokenBinary,
  FAST_INSTALL,
  leftInTmp,
  pluginsProject,
  specYaml,
  startServer,
  type TestServer,
  tarGz,
  tempDir,
  zipFile,
} from './helpers.js';

const fast = FAST_INSTALL;

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

const project = pluginsProject;

/** 10,001 one-byte files in 100 folders: one more than the documented maximum. */
const manyEntries = Array.from({ length: 10_001 }, (_, i) => ({ path: `d${i % 100}/f${i}`, data: 'x' }));

const cases: [string, () => Buffer, string][] = [
  ['a .tar.gz with more than 10,000 entries', () => tarGz(manyEntries), 'PLUGIN_ARCHIVE_TOO_LARGE'],
  ['a .zip with more than 10,000 entries', () => zipFile(manyEntries), 'PLUGIN_ARCHIVE_TOO_LARGE'],
  ['an archive entry climbing out', () => tarGz([{ path: '../x', data: 'x' }]), 'PLUGIN_ARCHIVE_UNSAFE'],
  [
    'an archive holding one name twice',
    () =>
      zipFile([
        { path: 'p', data: binaryPlugin('p'), mode: 0o100755 },
        { path: './p', data: binaryPlugin('p', '6.6.6'), mode: 0o100755 },
      ]),
    'PLUGIN_ARCHIVE_DUPLICATE',
  ],
  [
    'an archive without an executable',
    () => tarGz([{ path: 'README', data: 'hi' }]),
    'PLUGIN_ARCHIVE_CONTENTS',
  ],
  [
    'a truncated .tar.gz',
    () => tarGz([{ path: 'p', data: binaryPlugin('p') }]).subarray(0, 40),
    'PLUGIN_ARCHIVE_INVALID',
  ],
  ['a binary that fails its handshake', () => brokenBinary('exit'), 'PLUGIN_PROTOCOL_FAILED'],
  ['an invalid spec', () => Buffer.from('version: 3\nname: p\nplugin_versions: 7\n'), 'PLUGIN_SPEC_INVALID'],
];

describe('a failed install leaves nothing behind', () => {
  for (const [what, body, code] of cases) {
    it(`after ${what}`, async () => {
      const path = `/fail/${code}/${what.replace(/\W+/g, '-')}`;
      server.routes.set(path, { body: body() });
      const { dir, section } = project(`  - {name: p, url: ${server.url}${path}}`);
      let ok = true;
      const left = await leftInTmp(async () => {
        const report = await installPlugins(section, fast);
        ok = report.ok;
        expect(report.results[0]!.error).toMatchObject({ code });
      });
      expect(ok).toBe(false);
      expect(left).toEqual([]);
      expect(readdirSync(dir)).toEqual(['optimus.yaml']);
    });
  }

  it('keeps an existing install location as it was, previous plugin and lock included', async () => {
    server.routes.set('/keep/p.yaml', { body: specYaml('p') });
    const { dir, section } = project(`  - {name: p, url: ${server.url}/keep/p.yaml}`);
    expect((await installPlugins(section, fast)).ok).toBe(true);
    const before = readdirSync(join(dir, '.plugins')).sort();
    server.routes.set('/keep/p.yaml', { body: tarGz(manyEntries) });
    const left = await leftInTmp(async () => {
      const report = await installPlugins(section, { ...fast, force: true });
      expect(report.results[0]).toMatchObject({
        status: 'failed',
        error: { code: 'PLUGIN_ARCHIVE_TOO_LARGE' },
      });
    });
    expect(left).toEqual([]);
    expect(readdirSync(join(dir, '.plugins')).sort()).toEqual(before);
  });

  it('removes the temp files of a download cut off by a checksum mismatch or a missing artifact', async () => {
    server.routes.set('/sum/p.yaml', { body: specYaml('p') });
    const { dir, section } = project(
      `  - {name: p, url: ${server.url}/sum/p.yaml, sha256: "${'0'.repeat(64)}"}\n  - {name: q, url: ${server.url}/sum/none.yaml}`,
    );
    const left = await leftInTmp(async () => {
      const report = await installPlugins(section, fast);
      expect(report.results.map((r) => r.error?.code)).toEqual([
        'PLUGIN_CHECKSUM_MISMATCH',
        'PLUGIN_ARTIFACT_NOT_FOUND',
      ]);
    });
    expect(left).toEqual([]);
    expect(readdirSync(dir)).toEqual(['optimus.yaml']);
  });

  it('stops unpacking a .tar.gz that passes the maximum artifact size while it downloads', async () => {
    const body = tarGz([
      { path: 'big', data: binaryPlugin('big', '1.0.0', { padding: randomBytes(256 * 1024) }), mode: 0o755 },
    ]);
    server.routes.set('/big/p.tgz', { body });
    const { dir, section } = project(`  - {name: big, url: ${server.url}/big/p.tgz}`);
    const left = await leftInTmp(async () => {
      const report = await installPlugins(section, { ...fast, maxArtifactBytes: body.length >> 1 });
      expect(report.results[0]!.error).toMatchObject({
        code: 'PLUGIN_ARTIFACT_TOO_LARGE',
        message: `${server.url}/big/p.tgz is larger than the maximum artifact size (${((body.length >> 1) / 1024).toFixed(1)} KiB)`,
      });
    });
    expect(left).toEqual([]);
    expect(readdirSync(dir)).toEqual(['optimus.yaml']);
  });

  it('clears temp directories a killed install left, before installing', async () => {
    server.routes.set('/stale/p.yaml', { body: specYaml('p') });
    const { dir, section } = project(`  - {name: p, url: ${server.url}/stale/p.yaml}`);
    mkdirSync(join(dir, '.plugins', '.optimus-tmp-killed', 'x'), { recursive: true });
    writeFileSync(join(dir, '.plugins', '.optimus-tmp-killed', 'x', 'half'), 'x');
    expect((await installPlugins(section, fast)).ok).toBe(true);
    expect(readdirSync(join(dir, '.plugins')).filter((n) => n.startsWith('.optimus-tmp-'))).toEqual([]);
  });
});

describe('slow servers', () => {
  it('stops a server that trickles bytes at the deadline, naming the plugin and the url without credentials', async () => {
    const body = Buffer.from(specYaml('trickle'));
    server.routes.set('/slow/trickle.yaml', (_req, res) => {
      res.writeHead(200, { 'content-length': String(body.length) });
      let i = 0;
      const tick = setInterval(() => {
        if (res.destroyed || i >= body.length) return clearInterval(tick);
        res.write(body.subarray(i, ++i));
      }, 20);
      res.on('close', () => clearInterval(tick));
    });
    const url = server.url.replace('http://', 'http://bot:hunter2@');
    const { dir, section } = project(
      `  - {name: trickle, url: "${url}/slow/trickle.yaml"}`,
      'download: {stall_timeout_seconds: 5, deadline_seconds: 0.4}\n',
    );
    const left = await leftInTmp(async () => {
      const report = await installPlugins(section, fast);
      expect(report.results[0]!.error).toMatchObject({
        code: 'PLUGIN_DOWNLOAD_TIMEOUT',
        message: `trickle: downloading ${server.url.replace('http://', 'http://***@')}/slow/trickle.yaml took longer than 0.4 s`,
        hint: expect.stringContaining('plugins.download.deadline_seconds'),
      });
      expect(JSON.stringify(report)).not.toContain('hunter2');
    });
    expect(left).toEqual([]);
    expect(readdirSync(dir)).toEqual(['optimus.yaml']);
  });

  it('fails a download that stops sending after the stall timeout, retrying it first', async () => {
    const body = Buffer.from(specYaml('stall'));
    server.routes.set('/slow/stall.yaml', (_req, res) => {
      res.writeHead(200, { 'content-length': String(body.length) });
      res.write(body.subarray(0, 10));
    });
    const { section } = project(
      `  - {name: stall, url: ${server.url}/slow/stall.yaml}`,
      'download: {stall_timeout_seconds: 0.2}\n',
    );
    const report = await installPlugins(section, { ...fast, http: { retries: 1, backoffMs: 5 } });
    expect(report.results[0]!.error).toMatchObject({
      code: 'PLUGIN_DOWNLOAD_STALLED',
      message: `stall: ${server.url}/slow/stall.yaml: no data for 0.2 s (after 2 attempts)`,
      hint: expect.stringContaining('plugins.download.stall_timeout_seconds'),
    });
    expect(server.hits.get('/slow/stall.yaml')).toBe(2);
  });

  it('fails the stream of any provider when it goes quiet (S3 and GCS have no idle timeout of their own)', async () => {
    const dir = tempDir();
    const quiet = new Readable({ read() {} });
    quiet.push('first bytes');
    await expect(
      saveStream(quiet, join(dir, 'artifact'), 's3://bucket/key', { maxBytes: 1024, stallMs: 100 }),
    ).rejects.toMatchObject({
      code: 'PLUGIN_DOWNLOAD_STALLED',
      message: 's3://bucket/key: no data for 0.1 s',
    });
    expect(quiet.destroyed).toBe(true);
  });
});
