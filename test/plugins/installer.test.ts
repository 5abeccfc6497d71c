/** The installer's bookkeeping as a user sees it: events, errors, what is kept and what is removed. */
import { getEventListeners } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPluginsConfig } from '../../src/plugins/install/config.js';
import { installPlugins } from '../../src/plugins/install/installer.js';
import { acquireLocationLock } from '../../src/plugins/install/location-lock.js';
import { readLock, STATE_FILE } from '../../src/plugins/install/lock.js';
import {
  binaryPlugin,
  FAST_INSTALL,
  pluginsProject,
  specYaml,
  startServer,
  type TestServer,
  tarGz,
  writeConfig,
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

describe('installer', () => {
  it('tells the caller when each plugin starts, how far it got and how it ended', async () => {
    const size = Buffer.byteLength(specYaml('ev-a'));
    server.routes.set('/ev/a.yaml', { body: specYaml('ev-a'), headers: { 'content-length': String(size) } });
    const { section } = project(
      `  - {name: ev-a, url: ${server.url}/ev/a.yaml}\n  - {name: ev-b, url: ${server.url}/ev/none.yaml}`,
    );
    const seen: string[] = [];
    const report = await installPlugins(section, {
      ...fast,
      concurrency: 1,
      events: {
        onStart: (name, source) => seen.push(`start ${name} ${source}`),
        onProgress: (name, received, total) => seen.push(`progress ${name} ${received}/${total}`),
        onDone: (r) => seen.push(`done ${r.name} ${r.status}`),
      },
    });
    expect(seen).toEqual([
      `start ev-a ${server.url}/ev/a.yaml`,
      `progress ev-a ${size}/${size}`,
      'done ev-a installed',
      `start ev-b ${server.url}/ev/none.yaml`,
      'done ev-b failed',
    ]);
    expect(report).toMatchObject({ ok: false, fetched: true, lockWritten: true });
    expect(report.results.map((r) => [r.name, r.status, r.bytes])).toEqual([
      ['ev-a', 'installed', size],
      ['ev-b', 'failed', undefined],
    ]);
  });

  it('waits for another install into the same location, saying whose, and gives up after the wait', async () => {
    server.routes.set('/wait/a.yaml', { body: specYaml('wait-a') });
    const { dir, section } = project(`  - {name: wait-a, url: ${server.url}/wait/a.yaml}`);
    mkdirSync(join(dir, '.plugins'));
    const held = await acquireLocationLock(join(dir, '.plugins'));
    const waited: number[] = [];
    await expect(
      installPlugins(section, {
        ...fast,
        lockWaitMs: 100,
        events: { onWaitForLock: (pid) => waited.push(pid) },
      }),
    ).rejects.toMatchObject({ code: 'PLUGIN_INSTALL_LOCKED' });
    expect(waited).toEqual([process.pid]);
    await held.release();
    expect(readdirSync(join(dir, '.plugins'))).toEqual([]);
  });

  it('removes an install location it created when it cannot take the location lock', async () => {
    const { dir, section } = project('  - {name: x, url: x.yaml}');
    // A lock inside a location that does not exist yet cannot be held by anyone: make one appear.
    mkdirSync(join(dir, '.plugins'));
    const held = await acquireLocationLock(join(dir, '.plugins'));
    await expect(installPlugins(section, { ...fast, lockWaitMs: 50 })).rejects.toMatchObject({
      code: 'PLUGIN_INSTALL_LOCKED',
    });
    await held.release();
    expect(readdirSync(dir).sort()).toEqual(['.plugins', 'optimus.yaml']);
  });

  it('refuses plugin names that are not configured, naming the configured ones, and installs a name given twice once', async () => {
    server.routes.set('/names/a.yaml', { body: specYaml('na') });
    const { section } = project(
      `  - {name: na, url: ${server.url}/names/a.yaml}\n  - {name: nb, url: nb.yaml}`,
    );
    await expect(installPlugins(section, { ...fast, names: ['na', 'x', 'y'] })).rejects.toMatchObject({
      code: 'PLUGIN_NOT_CONFIGURED',
      category: 'usage',
      message: `not in the plugins list of ${section.file}: x, y`,
      hint: 'configured: na, nb',
    });
    const none = project('  []').section;
    none.list = [];
    await expect(installPlugins(none, { names: ['x'] })).rejects.toMatchObject({
      hint: 'add it under plugins.list',
    });
    const twice = await installPlugins(section, { ...fast, names: ['na', 'na'] });
    expect(twice.results.map((r) => r.name)).toEqual(['na']);
  });

  it('installs one at a time with a concurrency below 1', async () => {
    server.routes.set('/one/a.yaml', { body: specYaml('one-a') });
    const { section } = project(`  - {name: one-a, url: ${server.url}/one/a.yaml}`);
    expect((await installPlugins(section, { ...fast, concurrency: 0 })).ok).toBe(true);
  });

  it('removes the files of the previous install that the new one does not have', async () => {
    server.routes.set('/shape/p', {
      body: tarGz([
        { path: 'shape', data: binaryPlugin('shape'), mode: 0o755 },
        { path: 'spec.yaml', data: specYaml('shape') },
      ]),
    });
    const { dir, section } = project(`  - {name: shape, url: ${server.url}/shape/p}`);
    await installPlugins(section, fast);
    expect(
      readdirSync(join(dir, '.plugins'))
        .filter((n) => !n.startsWith('.'))
        .sort(),
    ).toEqual(['optimus-plugin-shape.yaml', 'shape']);
    server.routes.set('/shape/p', { body: specYaml('shape', '2.0.0') });
    const report = await installPlugins(section, { ...fast, force: true });
    expect(report.results[0]).toMatchObject({ status: 'updated', kind: 'yaml', version: '2.0.0' });
    expect(readdirSync(join(dir, '.plugins')).filter((n) => !n.startsWith('.'))).toEqual([
      'optimus-plugin-shape.yaml',
    ]);
    const state = JSON.parse(readFileSync(join(dir, '.plugins', STATE_FILE), 'utf8'));
    expect(Object.keys(state.files)).toEqual(['optimus-plugin-shape.yaml']);
  });

  it('starts a retried .tar.gz download from scratch', async () => {
    const body = tarGz([
      {
        path: 'again',
        data: binaryPlugin('again', '1.0.0', { padding: Buffer.alloc(64 * 1024, 1) }),
        mode: 0o755,
      },
    ]);
    server.routes.set('/again/p.tgz', (_req, res, hit) => {
      res.writeHead(200, { 'content-length': String(body.length) });
      if (hit === 1) {
        res.write(body.subarray(0, body.length - 100));
        setImmediate(() => res.socket?.destroy());
      } else res.end(body);
    });
    const { dir, section } = project(`  - {name: again, url: ${server.url}/again/p.tgz}`);
    const report = await installPlugins(section, fast);
    expect(report.results[0]).toMatchObject({ status: 'installed', version: '1.0.0' });
    expect(server.hits.get('/again/p.tgz')).toBe(2);
    expect(readdirSync(join(dir, '.plugins')).filter((n) => n.startsWith('.optimus-tmp'))).toEqual([]);
  });

  it('names the config line whose sha256 does not match', async () => {
    server.routes.set('/cfgsum/p.yaml', { body: specYaml('cs') });
    const { section } = project(
      `  - {name: cs, url: ${server.url}/cfgsum/p.yaml, sha256: "${'a'.repeat(64)}"}`,
    );
    const report = await installPlugins(section, fast);
    expect(report.results[0]!.error).toMatchObject({
      code: 'PLUGIN_CHECKSUM_MISMATCH',
      message: expect.stringMatching(
        new RegExp(`, the config \\(${section.file.replace(/[.]/g, '\\.')}:5\\) expects a{64}$`),
      ),
      hint: 'the artifact changed or is corrupt; if the new one is trusted, update sha256 in the config',
    });
  });

  it('reports a file system failure with its code, and an interruption as such', async () => {
    server.routes.set('/fs/p.yaml', { body: specYaml('fs') });
    const { dir, section } = project(`  - {name: fs, url: ${server.url}/fs/p.yaml}`);
    // Where the spec must go, a directory that cannot be replaced.
    mkdirSync(join(dir, '.plugins', 'optimus-plugin-fs.yaml', 'x'), { recursive: true });
    const report = await installPlugins(section, fast);
    expect(report.results[0]!.error).toMatchObject({
      code: expect.stringMatching(/^PLUGIN_IO_E[A-Z]+$/),
      message: expect.stringMatching(/^E[A-Z]+: /),
    });
    const ac = new AbortController();
    ac.abort();
    const aborted = await installPlugins(section, { ...fast, force: true, signal: ac.signal });
    expect(aborted.results[0]!.error).toEqual({ code: 'PLUGIN_INSTALL_ABORTED', message: 'interrupted' });
  });

  it('records the validated config for the next run, unless it holds a literal credential', async () => {
    server.routes.set('/rec/p.yaml', { body: specYaml('rec') });
    const { dir, section } = project(`  - {name: rec, url: ${server.url}/rec/p.yaml}`);
    await installPlugins(section, { ...fast, configSha256: 'abc' });
    const state = JSON.parse(readFileSync(join(dir, '.plugins', STATE_FILE), 'utf8'));
    expect(state.config).toMatchObject({
      file: section.file,
      sha256: 'abc',
      section: { list: [{ name: 'rec' }] },
    });
    const literal = project(
      '  - {name: rec, provider: p, url: p.yaml}',
      `providers:\n  - {name: p, type: http, url: "${server.url}/rec/", auth: {token: literal-secret}}\n`,
    );
    await installPlugins(literal.section, { ...fast, configSha256: 'abc' });
    expect(readFileSync(join(literal.dir, '.plugins', STATE_FILE), 'utf8')).not.toContain('literal-secret');
  });

  it('keeps the lock entries of plugins it did not touch and drops those of plugins gone from the config', async () => {
    server.routes.set('/keep/a.yaml', { body: specYaml('ka') });
    server.routes.set('/keep/b.yaml', { body: specYaml('kb') });
    const { dir, section } = project(
      `  - {name: ka, url: ${server.url}/keep/a.yaml}\n  - {name: kb, url: ${server.url}/keep/b.yaml}`,
    );
    await installPlugins(section, fast);
    const lessConfig = loadPluginsConfig(
      writeConfig(dir, `list:\n  - {name: ka, url: ${server.url}/keep/a.yaml}`),
    ).section!;
    const report = await installPlugins(lessConfig, fast);
    expect(report).toMatchObject({ fetched: false, lockWritten: true });
    expect((await readLock(join(dir, 'plugins.lock.yaml')))!.plugins.map((p) => p.name)).toEqual(['ka']);
  });

  it('removes leftovers of a killed install, and only those', async () => {
    server.routes.set('/left/p.yaml', { body: specYaml('left') });
    const { dir, section } = project(`  - {name: left, url: ${server.url}/left/p.yaml}`);
    mkdirSync(join(dir, '.plugins', '.optimus-tmp-x1'), { recursive: true });
    writeFileSync(join(dir, '.plugins', 'hand-written.yaml'), 'x: 1\n');
    await installPlugins(section, fast);
    expect(readdirSync(join(dir, '.plugins')).sort()).toEqual([
      '.optimus-install-state.json',
      'hand-written.yaml',
      'optimus-plugin-left.yaml',
    ]);
  });

  it('works with only some events listened to, and gives failed and unchanged plugins no warnings', async () => {
    server.routes.set('/some/a.yaml', { body: specYaml('some-a') });
    server.routes.set('/some/zeros', { body: Buffer.alloc(16) });
    const { section } = project(
      `  - {name: some-a, url: ${server.url}/some/a.yaml}\n  - {name: zeros, url: ${server.url}/some/zeros}`,
    );
    const done: string[] = [];
    const first = await installPlugins(section, { ...fast, events: { onDone: (r) => done.push(r.name) } });
    expect(done.sort()).toEqual(['some-a', 'zeros']);
    expect(first.results[1]).toEqual({
      name: 'zeros',
      status: 'failed',
      source: `${server.url}/some/zeros`,
      warnings: [],
      error: {
        code: 'PLUGIN_ARTIFACT_UNKNOWN',
        message: `${server.url}/some/zeros: not a plugin spec, an executable (ELF, Mach-O, PE or #! script), a .zip or a .tar.gz`,
      },
    });
    const again = await installPlugins(section, { ...fast, events: { onStart: () => {} } });
    expect(again.results[0]).toMatchObject({ status: 'unchanged', warnings: [] });
  });

  it('downloads from a new url without holding it to the old checksum, and honours a new sha256 in the config', async () => {
    server.routes.set('/move/v1.yaml', { body: specYaml('mv', '1.0.0') });
    server.routes.set('/move/v2.yaml', { body: specYaml('mv', '2.0.0') });
    const { dir, section } = project(`  - {name: mv, url: ${server.url}/move/v1.yaml}`);
    await installPlugins(section, fast);
    const moved = loadPluginsConfig(
      writeConfig(dir, `list:\n  - {name: mv, url: ${server.url}/move/v2.yaml}`),
    ).section!;
    expect((await installPlugins(moved, fast)).results[0]).toMatchObject({
      status: 'updated',
      version: '2.0.0',
    });
    const { createHash } = await import('node:crypto');
    const v1sum = createHash('sha256').update(specYaml('mv', '1.0.0')).digest('hex');
    // Same url, now pinned in the config to other bytes than the installed ones: fetched and checked.
    const pinned = loadPluginsConfig(
      writeConfig(dir, `list:\n  - {name: mv, url: ${server.url}/move/v2.yaml, sha256: "${v1sum}"}`),
    ).section!;
    expect((await installPlugins(pinned, fast)).results[0]!.error).toMatchObject({
      code: 'PLUGIN_CHECKSUM_MISMATCH',
    });
    rmSync(join(dir, '.plugins'), { recursive: true });
    const fresh = await installPlugins(moved, { ...fast, force: true });
    expect(fresh.results[0]!.status).toBe('installed');
  });

  it('tells an update from a first install by any file of the plugin being there', async () => {
    server.routes.set('/two/p', {
      body: tarGz([
        { path: 'two', data: binaryPlugin('two'), mode: 0o755 },
        { path: 'spec.yaml', data: specYaml('two') },
      ]),
    });
    const { dir, section } = project(`  - {name: two, url: ${server.url}/two/p}`);
    await installPlugins(section, fast);
    writeFileSync(join(dir, '.plugins', 'optimus-plugin-two.yaml'), 'tampered: true\n');
    expect((await installPlugins(section, fast)).results[0]!.status).toBe('updated');
    rmSync(join(dir, '.plugins', 'two'));
    expect((await installPlugins(section, fast)).results[0]!.status).toBe('updated');
    // The executable gone before a forced update that no longer ships it: nothing to remove, no error.
    server.routes.set('/two/p', { body: specYaml('two', '2.0.0') });
    rmSync(join(dir, '.plugins', 'two'));
    expect((await installPlugins(section, { ...fast, force: true })).results[0]).toMatchObject({
      status: 'updated',
      kind: 'yaml',
    });
  });

  it("leaves no listener on the caller's signal, however many runs share it", async () => {
    server.routes.set('/sig/a.yaml', { body: specYaml('sig') });
    const { section } = project(`  - {name: sig, url: ${server.url}/sig/a.yaml}`);
    // Only the listener warning counts: other code in this worker may warn about other things at
    // the same moment (CI once saw an unrelated DeprecationWarning here).
    const warnings: string[] = [];
    const onWarning = (w: Error) => {
      if (w.name === 'MaxListenersExceededWarning') warnings.push(w.message);
    };
    process.on('warning', onWarning);
    const signal = new AbortController().signal;
    try {
      for (let i = 0; i < 12; i++) await installPlugins(section, { ...fast, signal });
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    expect(warnings).toEqual([]);
  });

  it('fails a frozen install of a fresh clone without a lock, creating nothing', async () => {
    const { dir, section } = project('  - {name: x, url: x.yaml}');
    await expect(installPlugins(section, { ...fast, frozen: true })).rejects.toMatchObject({
      code: 'PLUGIN_LOCK_MISMATCH',
    });
    expect(readdirSync(dir)).toEqual(['optimus.yaml']);
  });

  it('removes a location it created when nothing got installed, its state file included, and keeps one that holds a plugin', async () => {
    server.routes.set('/st/ok.yaml', { body: specYaml('st-ok') });
    const failing = project(`  - {name: st, url: ${server.url}/st/none.yaml}`);
    await installPlugins(failing.section, { ...fast, configSha256: 'abc' });
    expect(readdirSync(failing.dir)).toEqual(['optimus.yaml']);
    const half = project(
      `  - {name: st-ok, url: ${server.url}/st/ok.yaml}\n  - {name: st, url: ${server.url}/st/none.yaml}`,
    );
    const report = await installPlugins(half.section, { ...fast, configSha256: 'abc' });
    expect(report.ok).toBe(false);
    expect(readdirSync(join(half.dir, '.plugins')).sort()).toEqual([STATE_FILE, 'optimus-plugin-st-ok.yaml']);
  });

  it('stops at the deadline a server that never answers', async () => {
    server.routes.set('/mute/p.yaml', () => {});
    const { section } = project(`  - {name: mute, url: ${server.url}/mute/p.yaml}`);
    const report = await installPlugins(section, {
      ...fast,
      http: { retries: 0 },
      deadlineMs: 200,
      stallTimeoutMs: 5000,
    });
    expect(report.results[0]!.error).toMatchObject({
      code: 'PLUGIN_DOWNLOAD_TIMEOUT',
      message: `mute: downloading ${server.url}/mute/p.yaml took longer than 0.2 s`,
    });
  });
});
