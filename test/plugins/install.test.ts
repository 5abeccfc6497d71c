import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPluginsConfig, type PluginsSection } from '../../src/plugins/install/config.js';
import { type InstallOptions, installPlugins } from '../../src/plugins/install/installer.js';
import { readLock } from '../../src/plugins/install/lock.js';
import {
  binaryPlugin,
  brokenBinary,
  specYaml,
  startServer,
  type TestServer,
  tarGz,
  tempDir,
  writeConfig,
  zipFile,
} from './helpers.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const fast: InstallOptions = {
  http: { retries: 2, backoffMs: 5, timeoutMs: 2000 },
  handshakeTimeoutMs: 5000,
};

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

function project(list: string, providers = ''): { dir: string; section: PluginsSection } {
  const dir = tempDir();
  const file = writeConfig(dir, `install_location: .plugins\n${providers}list:\n${list}`);
  const { section, problems } = loadPluginsConfig(file);
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  return { dir, section: section! };
}

/** Run an installed binary plugin's handshake by hand, as a user's shell would. */
function handshakeOf(exe: string): { protocol: number; spec: { name: string } } {
  const out = execFileSync(exe, {
    input: '{"jsonrpc":"2.0","id":1,"method":"handshake","params":{"protocol":1}}\n',
  }).toString();
  return JSON.parse(out).result;
}

describe('plugin install', () => {
  it('installs a YAML spec, a raw executable, a .tar.gz and a .zip, and pins them in the lock', async () => {
    server.routes.set('/a/spec.yaml', { body: specYaml('audit', '2.1.0') });
    server.routes.set('/a/raw', { body: binaryPlugin('raw-one', '0.1.0') });
    server.routes.set('/a/tgz.tar.gz', {
      body: tarGz([
        { path: 'pkg/', type: 'dir' },
        { path: 'pkg/bin-name', data: binaryPlugin('tar-one', '3.0.0'), mode: 0o755 },
        { path: 'pkg/optimus-plugin-tar-one.yaml', data: specYaml('tar-one', '3.0.0') },
        { path: 'pkg/README.md', data: 'read me' },
      ]),
    });
    server.routes.set('/a/z.zip', {
      body: zipFile([{ path: 'zipped', data: binaryPlugin('zip-one', '4.0.0'), mode: 0o100755 }]),
    });
    const { dir, section } = project(
      [
        `  - {name: audit, url: ${server.url}/a/spec.yaml}`,
        `  - {name: raw-one, url: ${server.url}/a/raw}`,
        `  - {name: tar-one, url: ${server.url}/a/tgz.tar.gz}`,
        `  - {name: zip-one, url: ${server.url}/a/z.zip}`,
      ].join('\n'),
    );
    const report = await installPlugins(section, fast);
    expect(report.results.map((r) => [r.name, r.status, r.kind, r.version])).toEqual([
      ['audit', 'installed', 'yaml', '2.1.0'],
      ['raw-one', 'installed', 'binary', '0.1.0'],
      ['tar-one', 'installed', 'binary', '3.0.0'],
      ['zip-one', 'installed', 'binary', '4.0.0'],
    ]);
    const loc = join(dir, '.plugins');
    expect(readFileSync(join(loc, 'optimus-plugin-audit.yaml'), 'utf8')).toBe(specYaml('audit', '2.1.0'));
    expect(existsSync(join(loc, 'tar-one'))).toBe(true);
    expect(existsSync(join(loc, 'optimus-plugin-tar-one.yaml'))).toBe(true);
    expect(existsSync(join(loc, 'README.md'))).toBe(false);
    expect(statSync(join(loc, 'zip-one')).mode & 0o111).not.toBe(0);
    expect(handshakeOf(join(loc, 'tar-one')).spec.name).toBe('tar-one');

    const lock = await readLock(join(dir, 'plugins.lock.yaml'));
    const tar = lock!.plugins.find((p) => p.name === 'tar-one')!;
    expect(tar).toMatchObject({
      kind: 'binary',
      version: '3.0.0',
      dialect: 'v3',
      source: `${server.url}/a/tgz.tar.gz`,
    });
    expect(tar.files.map((f) => f.path)).toEqual(['optimus-plugin-tar-one.yaml', 'tar-one']);
    expect(tar.files[1]!.sha256).toBe(sha(readFileSync(join(loc, 'tar-one'))));
    expect(lock!.plugins.find((p) => p.name === 'audit')!.sha256).toBe(sha(specYaml('audit', '2.1.0')));
  });

  it('writes a lock file that is sorted and byte-identical when rewritten', async () => {
    server.routes.set('/s/b.yaml', { body: specYaml('bbb') });
    server.routes.set('/s/a.yaml', { body: specYaml('aaa') });
    const { dir, section } = project(
      `  - {name: bbb, url: ${server.url}/s/b.yaml}\n  - {name: aaa, url: ${server.url}/s/a.yaml}`,
    );
    await installPlugins(section, fast);
    const text = readFileSync(join(dir, 'plugins.lock.yaml'), 'utf8');
    expect(text.indexOf('name: aaa')).toBeLessThan(text.indexOf('name: bbb'));
    await installPlugins(section, { ...fast, force: true });
    expect(readFileSync(join(dir, 'plugins.lock.yaml'), 'utf8')).toBe(text);
  });

  it('makes no request at all when nothing changed, and says everything is up to date', async () => {
    server.routes.set('/n/x.tgz', { body: tarGz([{ path: 'x', data: binaryPlugin('nx'), mode: 0o755 }]) });
    const { section } = project(`  - {name: nx, url: ${server.url}/n/x.tgz}`);
    await installPlugins(section, fast);
    const before = server.total();
    const again = await installPlugins(section, fast);
    expect(server.total()).toBe(before);
    expect(again.fetched).toBe(false);
    expect(again.lockWritten).toBe(false);
    expect(again.results[0]!.status).toBe('unchanged');
  });

  it('reinstalls a plugin whose installed file was modified', async () => {
    server.routes.set('/m/spec.yaml', { body: specYaml('mod') });
    const { dir, section } = project(`  - {name: mod, url: ${server.url}/m/spec.yaml}`);
    await installPlugins(section, fast);
    const file = join(dir, '.plugins', 'optimus-plugin-mod.yaml');
    writeFileSync(file, 'tampered: true\n');
    const again = await installPlugins(section, fast);
    expect(again.results[0]!.status).toBe('updated');
    expect(readFileSync(file, 'utf8')).toBe(specYaml('mod'));
  });

  it('fails a plugin whose sha256 differs from the config and keeps the previous install', async () => {
    server.routes.set('/c/p.yaml', { body: specYaml('pinned', '1.0.0') });
    const { dir, section } = project(
      `  - {name: pinned, url: ${server.url}/c/p.yaml, sha256: "${sha(specYaml('pinned', '1.0.0'))}"}`,
    );
    expect((await installPlugins(section, fast)).ok).toBe(true);
    server.routes.set('/c/p.yaml', { body: specYaml('pinned', '6.6.6') });
    const again = await installPlugins(section, { ...fast, force: true });
    expect(again.ok).toBe(false);
    expect(again.results[0]!.error!.code).toBe('PLUGIN_CHECKSUM_MISMATCH');
    expect(readFileSync(join(dir, '.plugins', 'optimus-plugin-pinned.yaml'), 'utf8')).toContain('tag: 1.0.0');
    expect((await readLock(join(dir, 'plugins.lock.yaml')))!.plugins[0]!.version).toBe('1.0.0');
  });

  it('refuses an artifact that changed upstream since it was locked', async () => {
    server.routes.set('/l/p.yaml', { body: specYaml('drift', '1.0.0') });
    const { dir, section } = project(`  - {name: drift, url: ${server.url}/l/p.yaml}`);
    await installPlugins(section, fast);
    server.routes.set('/l/p.yaml', { body: specYaml('drift', '2.0.0') });
    writeFileSync(join(dir, '.plugins', 'optimus-plugin-drift.yaml'), 'x: 1\n');
    const again = await installPlugins(section, fast);
    expect(again.results[0]!.error).toMatchObject({ code: 'PLUGIN_CHECKSUM_MISMATCH' });
    expect(again.results[0]!.error!.message).toContain('plugins.lock.yaml');
    const forced = await installPlugins(section, { ...fast, force: true });
    expect(forced.results[0]).toMatchObject({ status: 'updated', version: '2.0.0' });
  });

  it('retries a server that fails with 5xx and then recovers', async () => {
    server.routes.set('/r/flaky.yaml', (_req, res, hit) => {
      if (hit <= 2) res.writeHead(503).end('busy');
      else res.writeHead(200).end(specYaml('flaky'));
    });
    const { section } = project(`  - {name: flaky, url: ${server.url}/r/flaky.yaml}`);
    const report = await installPlugins(section, fast);
    expect(report.results[0]!.status).toBe('installed');
    expect(server.hits.get('/r/flaky.yaml')).toBe(3);
  });

  it('does not retry a 404 and names the url', async () => {
    const { section } = project(`  - {name: gone, url: ${server.url}/missing/gone.yaml}`);
    const report = await installPlugins(section, fast);
    expect(report.results[0]!.error).toMatchObject({ code: 'PLUGIN_ARTIFACT_NOT_FOUND' });
    expect(report.results[0]!.error!.message).toContain('/missing/gone.yaml');
    expect(server.hits.get('/missing/gone.yaml')).toBe(1);
  });

  it('retries a truncated body and gives up with a clear error when it stays truncated', async () => {
    const body = Buffer.from(specYaml('trunc'));
    server.routes.set('/t/trunc.yaml', (_req, res) => {
      res.writeHead(200, { 'content-length': String(body.length + 100) });
      res.write(body);
      setImmediate(() => res.socket?.destroy());
    });
    const { section } = project(`  - {name: trunc, url: ${server.url}/t/trunc.yaml}`);
    const report = await installPlugins(section, fast);
    expect(report.results[0]!.error!.code).toBe('PLUGIN_DOWNLOAD_FAILED');
    expect(server.hits.get('/t/trunc.yaml')).toBe(3);
  });

  it('retries a server that stops sending mid-body (timeout) and succeeds on a later attempt', async () => {
    const body = Buffer.from(specYaml('slow'));
    server.routes.set('/t/slow.yaml', (_req, res, hit) => {
      res.writeHead(200, { 'content-length': String(body.length) });
      if (hit === 1) res.write(body.subarray(0, 10));
      else res.end(body);
    });
    const { section } = project(`  - {name: slow, url: ${server.url}/t/slow.yaml}`);
    const report = await installPlugins(section, {
      ...fast,
      http: { retries: 2, backoffMs: 5, timeoutMs: 300 },
    });
    expect(report.results[0]!.status).toBe('installed');
    expect(server.hits.get('/t/slow.yaml')).toBe(2);
  });

  it('follows redirects', async () => {
    server.routes.set('/old/p.yaml', { status: 302, body: '', headers: { location: '/new/p.yaml' } });
    server.routes.set('/new/p.yaml', { body: specYaml('moved') });
    const { section } = project(`  - {name: moved, url: ${server.url}/old/p.yaml}`);
    expect((await installPlugins(section, fast)).results[0]!.status).toBe('installed');
  });

  it('refuses an artifact larger than the maximum size', async () => {
    server.routes.set('/big/p', { body: Buffer.alloc(4096, 1) });
    const { section } = project(`  - {name: big, url: ${server.url}/big/p}`);
    const report = await installPlugins(section, { ...fast, maxArtifactBytes: 1024 });
    expect(report.results[0]!.error!.code).toBe('PLUGIN_ARTIFACT_TOO_LARGE');
  });

  it('installs under the configured name and warns when the spec names itself otherwise', async () => {
    server.routes.set('/w/spec.yaml', { body: specYaml('upstream-name') });
    server.routes.set('/w/bin', { body: binaryPlugin('other-bin') });
    const { dir, section } = project(
      `  - {name: local-name, url: ${server.url}/w/spec.yaml}\n  - {name: local-bin, url: ${server.url}/w/bin}`,
    );
    const report = await installPlugins(section, fast);
    expect(report.results[0]!.warnings[0]).toContain('"upstream-name"');
    expect(report.results[1]!.warnings[0]).toContain('"other-bin"');
    expect(readFileSync(join(dir, '.plugins', 'optimus-plugin-local-name.yaml'), 'utf8')).toContain(
      'name: local-name',
    );
    expect(existsSync(join(dir, '.plugins', 'local-bin'))).toBe(true);
  });

  it('does not install a binary that fails the handshake', async () => {
    server.routes.set('/h/exit', { body: brokenBinary('exit') });
    server.routes.set('/h/garbage', { body: brokenBinary('garbage') });
    server.routes.set('/h/v9', { body: binaryPlugin('v9', '1.0.0', { protocol: 9 }) });
    const { dir, section } = project(
      [
        `  - {name: exits, url: ${server.url}/h/exit}`,
        `  - {name: garbage, url: ${server.url}/h/garbage}`,
        `  - {name: v9, url: ${server.url}/h/v9}`,
      ].join('\n'),
    );
    const report = await installPlugins(section, fast);
    expect(report.results.map((r) => r.error?.code)).toEqual([
      'PLUGIN_PROTOCOL_FAILED',
      'PLUGIN_PROTOCOL_FAILED',
      'PLUGIN_PROTOCOL_UNSUPPORTED',
    ]);
    expect(report.results[0]!.error!.message).toContain('boom');
    for (const n of ['exits', 'garbage', 'v9']) expect(existsSync(join(dir, '.plugins', n))).toBe(false);
    expect(existsSync(join(dir, 'plugins.lock.yaml'))).toBe(false);
  });

  it('rejects an invalid YAML spec with the line of the problem', async () => {
    server.routes.set('/bad/spec.yaml', { body: 'version: 3\nname: bad\nplugin_versions: 7\n' });
    const { section } = project(`  - {name: bad, url: ${server.url}/bad/spec.yaml}`);
    const report = await installPlugins(section, fast);
    expect(report.results[0]!.error!.code).toBe('PLUGIN_SPEC_INVALID');
    expect(report.results[0]!.error!.message).toMatch(/line 3/);
  });

  it('installs from plain paths and file:// URLs relative to the config file', async () => {
    const { dir, section } = project(
      '  - {name: local, url: specs/local.yaml}\n  - {name: local-bin, url: "file://PLACEHOLDER"}',
    );
    const specs = join(dir, 'specs');
    execFileSync('mkdir', ['-p', specs]);
    writeFileSync(join(specs, 'local.yaml'), specYaml('local'));
    writeFileSync(join(specs, 'bin'), binaryPlugin('local-bin'));
    section.list[1]!.url = `file://${join(specs, 'bin')}`;
    const report = await installPlugins(section, fast);
    expect(report.results.map((r) => r.status)).toEqual(['installed', 'installed']);
    expect(report.results[0]!.source).toBe('specs/local.yaml');
  });

  it('with --frozen, fails when the config and the lock disagree and leaves the lock alone', async () => {
    server.routes.set('/f/a.yaml', { body: specYaml('fa') });
    server.routes.set('/f/b.yaml', { body: specYaml('fb') });
    const { dir, section } = project(`  - {name: fa, url: ${server.url}/f/a.yaml}`);
    await installPlugins(section, fast);
    const lockText = readFileSync(join(dir, 'plugins.lock.yaml'), 'utf8');
    const grown = writeConfig(
      dir,
      `install_location: .plugins\nlist:\n  - {name: fa, url: ${server.url}/f/a.yaml}\n  - {name: fb, url: ${server.url}/f/b.yaml}`,
    );
    const next = loadPluginsConfig(grown).section!;
    await expect(installPlugins(next, { ...fast, frozen: true })).rejects.toMatchObject({
      code: 'PLUGIN_LOCK_MISMATCH',
      message: expect.stringContaining('fb: in the config but not in the lock'),
    });
    expect(readFileSync(join(dir, 'plugins.lock.yaml'), 'utf8')).toBe(lockText);
  });

  it('with --frozen, restores missing files from the lock and verifies them against it', async () => {
    server.routes.set('/fr/a.yaml', { body: specYaml('fra') });
    const { dir, section } = project(`  - {name: fra, url: ${server.url}/fr/a.yaml}`);
    await installPlugins(section, fast);
    execFileSync('rm', ['-rf', join(dir, '.plugins')]);
    const ok = await installPlugins(section, { ...fast, frozen: true });
    // Nothing of it was on disk: for the user this is a first install, pinned by the lock.
    expect(ok.results[0]!.status).toBe('installed');
    execFileSync('rm', ['-rf', join(dir, '.plugins')]);
    server.routes.set('/fr/a.yaml', { body: specYaml('fra', '9.9.9') });
    const bad = await installPlugins(section, { ...fast, frozen: true });
    expect(bad.results[0]!.error!.code).toBe('PLUGIN_CHECKSUM_MISMATCH');
  });

  it('installs only the named plugins and keeps the lock entries of the others', async () => {
    server.routes.set('/o/a.yaml', { body: specYaml('oa') });
    server.routes.set('/o/b.yaml', { body: specYaml('ob') });
    const { dir, section } = project(
      `  - {name: oa, url: ${server.url}/o/a.yaml}\n  - {name: ob, url: ${server.url}/o/b.yaml}`,
    );
    await installPlugins(section, fast);
    const report = await installPlugins(section, { ...fast, names: ['ob'], force: true });
    expect(report.results.map((r) => r.name)).toEqual(['ob']);
    expect((await readLock(join(dir, 'plugins.lock.yaml')))!.plugins.map((p) => p.name)).toEqual([
      'oa',
      'ob',
    ]);
    await expect(installPlugins(section, { ...fast, names: ['nope'] })).rejects.toMatchObject({
      code: 'PLUGIN_NOT_CONFIGURED',
    });
  });

  it('serialises two installs into the same location', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    server.routes.set('/ser/a.yaml', (_req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(200).end(specYaml('ser'));
      }, 50);
    });
    const { section } = project(`  - {name: ser, url: ${server.url}/ser/a.yaml}`);
    const [a, b] = await Promise.all([
      installPlugins(section, { ...fast, force: true }),
      installPlugins(section, { ...fast, force: true }),
    ]);
    expect(a.ok && b.ok).toBe(true);
    expect(maxInFlight).toBe(1);
  });

  it('sends provider headers and credentials from the environment, and never shows them', async () => {
    server.routes.set('/auth/p.yaml', (req, res) => {
      if (req.headers.authorization !== 'Bearer s3cr3t-token-value') res.writeHead(401).end();
      else res.writeHead(200).end(specYaml('authed'));
    });
    const providers = `providers:\n  - {name: priv, type: http, url: "${server.url}/auth/", auth: {token: "\${PLUGIN_TOKEN}"}, headers: {X-Team: "\${TEAM}"}}\n`;
    const { section } = project('  - {name: authed, provider: priv, url: p.yaml}', providers);
    const missing = await installPlugins(section, { ...fast, env: {} });
    expect(missing.results[0]!.error).toMatchObject({ code: 'PLUGIN_ENV_MISSING' });
    expect(missing.results[0]!.error!.message).toMatch(
      /optimus\.yaml:\d+:\d+ plugins\.providers\[0\]\.(headers\.X-Team|auth\.token): environment variable (TEAM|PLUGIN_TOKEN) is not set/,
    );
    const ok = await installPlugins(section, {
      ...fast,
      env: { PLUGIN_TOKEN: 's3cr3t-token-value', TEAM: 'data' },
    });
    expect(ok.results[0]!.status).toBe('installed');
    expect(server.headers.get('/auth/p.yaml')!['x-team']).toBe('data');
    const wrong = await installPlugins(section, {
      ...fast,
      force: true,
      env: { PLUGIN_TOKEN: 'wrong-token-value', TEAM: 'data' },
    });
    expect(wrong.results[0]!.error!.code).toBe('PLUGIN_DOWNLOAD_FAILED');
    expect(JSON.stringify(wrong)).not.toContain('wrong-token-value');
  });

  it('says "installed" on a first install from a committed lock, and "updated" only over an earlier install', async () => {
    server.routes.set('/iu/a.yaml', { body: specYaml('iu-a') });
    server.routes.set('/iu/b.yaml', { body: specYaml('iu-b') });
    const { dir, section } = project(
      `  - {name: iu-a, url: ${server.url}/iu/a.yaml}\n  - {name: iu-b, url: ${server.url}/iu/b.yaml}`,
    );
    await installPlugins(section, fast);
    // A fresh clone: the lock is committed, install_location is not.
    execFileSync('rm', ['-rf', join(dir, '.plugins')]);
    const first = await installPlugins(section, fast);
    expect(first.results.map((r) => r.status)).toEqual(['installed', 'installed']);
    writeFileSync(join(dir, '.plugins', 'optimus-plugin-iu-b.yaml'), 'tampered: true\n');
    const again = await installPlugins(section, fast);
    expect(again.results.map((r) => r.status)).toEqual(['unchanged', 'updated']);
    const forced = await installPlugins(section, { ...fast, force: true });
    expect(forced.results.map((r) => r.status)).toEqual(['updated', 'updated']);
  });

  it('installs 50 plugins at once without a MaxListenersExceededWarning', async () => {
    const warnings: string[] = [];
    // Only the listener warning counts: unrelated code in this worker may warn at the same moment.
    const onWarning = (w: Error) => {
      if (w.name === 'MaxListenersExceededWarning') warnings.push(w.message);
    };
    process.on('warning', onWarning);
    // The first 20 answers wait for the 20th request, so at least 20 downloads overlap.
    let waiting: (() => void)[] | undefined = [];
    const list: string[] = [];
    for (let i = 0; i < 50; i++) {
      server.routes.set(`/many/p${i}.yaml`, (_req, res) => {
        const go = () => res.writeHead(200).end(specYaml(`many-${i}`));
        if (!waiting) return go();
        waiting.push(go);
        if (waiting.length < 20) return;
        const all = waiting;
        waiting = undefined;
        for (const g of all) g();
      });
      list.push(`  - {name: many-${i}, url: ${server.url}/many/p${i}.yaml}`);
    }
    const { section } = project(list.join('\n'));
    try {
      const report = await installPlugins(section, {
        ...fast,
        concurrency: 50,
        signal: new AbortController().signal,
      });
      expect(report.results.filter((r) => r.status === 'installed')).toHaveLength(50);
      // Warnings are emitted on the next tick.
      await new Promise((r) => setImmediate(r));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('stops every download when the run is interrupted', async () => {
    const ac = new AbortController();
    server.routes.set('/int/a.yaml', (_req, res) => {
      res.writeHead(200);
      res.write('version: 3\n', () => ac.abort());
    });
    const { dir, section } = project(`  - {name: int-a, url: ${server.url}/int/a.yaml}`);
    const report = await installPlugins(section, { ...fast, signal: ac.signal });
    expect(report.results[0]!.error).toMatchObject({ code: 'PLUGIN_INSTALL_ABORTED' });
    expect(existsSync(join(dir, '.plugins'))).toBe(false);
  });
});
