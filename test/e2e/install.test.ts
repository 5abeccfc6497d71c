/** The installer through the built CLI (`npm test` builds dist/ first). */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  binaryPlugin,
  specYaml,
  startServer,
  type TestServer,
  tarGz,
  tempDir,
  writeConfig,
} from '../plugins/helpers.js';

const BIN = resolve('bin/optimus.js');
/** Async, so the test's own HTTP server keeps answering while the CLI runs. */
function cli(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, CI: '1', NO_COLOR: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
  });
}

function handshakeName(exe: string): string {
  const out = execFileSync(exe, {
    input: '{"jsonrpc":"2.0","id":1,"method":"handshake","params":{"protocol":1}}\n',
  }).toString();
  return `${JSON.parse(out).result.spec.name}@${JSON.parse(out).result.spec.plugin_versions.default.tag}`;
}

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

describe('optimus plugin install (CLI)', () => {
  it('installs, then reports that nothing changed without any request, in text and JSON', async () => {
    server.routes.set('/cli/a.yaml', { body: specYaml('cli-a') });
    const dir = tempDir();
    writeConfig(dir, `list:\n  - {name: cli-a, url: ${server.url}/cli/a.yaml}`);
    const first = await cli(['plugin', 'install'], dir);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('1 installed');
    const before = server.total();
    const second = await cli(['plugin', 'install'], dir);
    expect(second.stdout).toContain('1 plugin up to date; nothing downloaded');
    const json = JSON.parse((await cli(['plugin', 'install', '--json'], dir)).stdout);
    expect(json).toMatchObject({
      ok: true,
      up_to_date: true,
      plugins: [{ name: 'cli-a', status: 'unchanged' }],
    });
    expect(server.total()).toBe(before);
    const list = JSON.parse((await cli(['plugin', 'list', '--json'], dir)).stdout);
    expect(list.plugins).toEqual([
      expect.objectContaining({ name: 'cli-a', kind: 'yaml', version: '1.0.0', state: 'verified' }),
    ]);
  });

  it('skips validating an unchanged config, and validates a changed one in full', async () => {
    server.routes.set('/cli/fast.yaml', { body: specYaml('cli-fast') });
    const dir = tempDir();
    const config = writeConfig(dir, `list:\n  - {name: cli-fast, url: ${server.url}/cli/fast.yaml}`);
    expect((await cli(['plugin', 'install'], dir)).status).toBe(0);
    const state = JSON.parse(readFileSync(join(dir, '.plugins/.optimus-install-state.json'), 'utf8'));
    expect(state.config).toMatchObject({ file: config, section: { list: [{ name: 'cli-fast' }] } });
    const again = JSON.parse((await cli(['plugin', 'install', '--json'], dir)).stdout);
    expect(again).toMatchObject({
      ok: true,
      up_to_date: true,
      plugins: [{ name: 'cli-fast', status: 'unchanged' }],
    });
    // Same install_location, an invalid entry: the record no longer matches, the validator reports it.
    writeFileSync(config, `${readFileSync(config, 'utf8')}    - {name: bad, url: x.yaml, provider: ghost}\n`);
    const changed = await cli(['plugin', 'install'], dir);
    expect(changed.status).toBe(1);
    expect(changed.stderr).toContain('unknown provider "ghost"');
  });

  it('says "installed" on a fresh clone with a committed lock, without warnings', async () => {
    const list: string[] = [];
    for (let i = 0; i < 12; i++) {
      server.routes.set(`/clone/p${i}.yaml`, { body: specYaml(`clone-${i}`) });
      list.push(`  - {name: clone-${i}, url: ${server.url}/clone/p${i}.yaml}`);
    }
    const dir = tempDir();
    writeConfig(dir, `list:\n${list.join('\n')}`);
    expect((await cli(['plugin', 'install'], dir)).status).toBe(0);
    rmSync(join(dir, '.plugins'), { recursive: true });
    const fresh = await cli(['plugin', 'install', '--concurrency', '12'], dir);
    expect(fresh.status).toBe(0);
    expect(fresh.stdout).toContain('12 installed, 0 updated, 0 unchanged, 0 failed');
    expect(fresh.stderr).toBe('');
  });

  it('leaves nothing in install_location or the temp folder when an install fails', async () => {
    server.routes.set('/cli/dup.tgz', {
      body: tarGz([
        { path: 'p', data: binaryPlugin('p'), mode: 0o755 },
        { path: './p', data: binaryPlugin('p', '6.6.6'), mode: 0o755 },
      ]),
    });
    const dir = tempDir();
    const tmp = tempDir();
    writeConfig(dir, `list:\n  - {name: p, url: ${server.url}/cli/dup.tgz}`);
    const r = await cli(['plugin', 'install'], dir, { TMPDIR: tmp });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('holds "p" more than once [PLUGIN_ARCHIVE_DUPLICATE]');
    expect(readdirSync(dir)).toEqual(['optimus.yaml']);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('exits 1 when a plugin fails and 2 on bad usage', async () => {
    const dir = tempDir();
    writeConfig(dir, `list:\n  - {name: nope, url: ${server.url}/cli/none.yaml}`);
    const failed = await cli(['plugin', 'install', '--json'], dir);
    expect(failed.status).toBe(1);
    expect(JSON.parse(failed.stdout).plugins[0].error.code).toBe('PLUGIN_ARTIFACT_NOT_FOUND');
    expect((await cli(['plugin', 'install', '--concurrency', '0'], dir)).status).toBe(2);
    expect((await cli(['plugin', 'install', 'not-configured'], dir)).status).toBe(2);
  });

  it('prints config problems with file, line and path, and exits 1', async () => {
    const dir = tempDir();
    writeConfig(dir, 'list:\n  - {name: x, url: a.yaml, provider: ghost}');
    const r = await cli(['plugin', 'install'], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /optimus\.yaml:5:\d+ plugins\.list\[0\]\.provider error unknown provider "ghost"/,
    );
  });

  it('never prints a credential, even when the server rejects it', async () => {
    server.routes.set('/cli/secret.yaml', { status: 403, body: 'no' });
    const dir = tempDir();
    writeConfig(
      dir,
      `providers:\n  - {name: p, type: http, url: "${server.url}/cli/", auth: {username: bot, password: "\${PW}"}}\nlist:\n  - {name: s, provider: p, url: secret.yaml}`,
    );
    const r = await cli(['plugin', 'install'], dir, { PW: 'hunter2-very-secret' });
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toContain('HTTP 403');
    expect(r.stdout + r.stderr).not.toContain('hunter2-very-secret');
    expect(r.stdout + r.stderr).not.toContain(Buffer.from('bot:hunter2-very-secret').toString('base64'));
  });

  it('diff and clean show and remove what is installed but no longer configured', async () => {
    server.routes.set('/cli/k.yaml', { body: specYaml('keep') });
    server.routes.set('/cli/g.yaml', { body: specYaml('gone') });
    const dir = tempDir();
    writeConfig(
      dir,
      `list:\n  - {name: keep, url: ${server.url}/cli/k.yaml}\n  - {name: gone, url: ${server.url}/cli/g.yaml}`,
    );
    expect((await cli(['plugin', 'install'], dir)).status).toBe(0);
    writeConfig(dir, `list:\n  - {name: keep, url: ${server.url}/cli/k.yaml}`);
    const diff = JSON.parse((await cli(['plugin', 'diff', '--json'], dir)).stdout);
    expect(diff.changes).toEqual([
      { name: 'gone', change: 'not-configured', detail: 'in the lock, not in the config' },
      { name: 'optimus-plugin-gone.yaml', change: 'stray', detail: 'in install_location, not in the config' },
    ]);
    expect((await cli(['plugin', 'diff', '--exit-code'], dir)).status).toBe(1);
    const clean = JSON.parse((await cli(['plugin', 'clean', '--json'], dir)).stdout);
    expect(clean).toMatchObject({ removed: ['optimus-plugin-gone.yaml'], lock_pruned: ['gone'] });
    expect(existsSync(join(dir, '.plugins', 'optimus-plugin-keep.yaml'))).toBe(true);
    expect((await cli(['plugin', 'diff', '--exit-code'], dir)).status).toBe(0);
  });

  it('available lists an http provider index and marks what is installed', async () => {
    server.routes.set('/idx/index.yaml', {
      body: 'plugins:\n  - {name: ia, url: ia.yaml, version: 1.0.0}\n  - {name: ib, url: ib.yaml}\n',
    });
    server.routes.set('/idx/ia.yaml', { body: specYaml('ia') });
    const dir = tempDir();
    writeConfig(
      dir,
      `providers:\n  - {name: hub, type: http, url: "${server.url}/idx/"}\nlist:\n  - {name: ia, provider: hub, url: ia.yaml}`,
    );
    await cli(['plugin', 'install'], dir);
    const out = JSON.parse((await cli(['plugin', 'available', '--json'], dir)).stdout);
    expect(out.providers[0].artifacts).toEqual([
      { ref: 'ia.yaml', name: 'ia', version: '1.0.0', installed_as: 'ia' },
      { ref: 'ib.yaml', name: 'ib' },
    ]);
    expect((await cli(['plugin', 'available', 'nowhere'], dir)).status).toBe(2);
  });

  it('leaves the previous install working when an install is killed halfway', async () => {
    const v1 = tarGz([{ path: 'k', data: binaryPlugin('killme', '1.0.0'), mode: 0o755 }]);
    const v2 = tarGz([
      {
        path: 'k',
        data: binaryPlugin('killme', '2.0.0', { padding: Buffer.alloc(256 * 1024, 7) }),
        mode: 0o755,
      },
    ]);
    server.routes.set('/kill/v1.tgz', { body: v1 });
    let halfway: () => void = () => {};
    const sentHalf = new Promise<void>((r) => {
      halfway = r;
    });
    // Sends the first half of v2, then stalls forever: the install is killed while downloading.
    server.routes.set('/kill/v2.tgz', (_req, res) => {
      res.writeHead(200, { 'content-length': String(v2.length) });
      res.write(v2.subarray(0, v2.length >> 1), () => halfway());
    });
    const dir = tempDir();
    writeConfig(dir, `list:\n  - {name: killme, url: ${server.url}/kill/v1.tgz}`);
    expect((await cli(['plugin', 'install'], dir)).status).toBe(0);
    const exe = join(dir, '.plugins', 'killme');
    const lockBefore = readFileSync(join(dir, 'plugins.lock.yaml'), 'utf8');
    expect(handshakeName(exe)).toBe('killme@1.0.0');

    writeConfig(dir, `list:\n  - {name: killme, url: ${server.url}/kill/v2.tgz}`);
    const child = spawn(process.execPath, [BIN, 'plugin', 'install'], {
      cwd: dir,
      stdio: 'ignore',
      env: { ...process.env, CI: '1' },
    });
    await sentHalf;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;

    expect(handshakeName(exe)).toBe('killme@1.0.0');
    expect(readFileSync(join(dir, 'plugins.lock.yaml'), 'utf8')).toBe(lockBefore);
    expect(existsSync(join(dir, '.plugins', '.optimus-install.lock'))).toBe(true);

    // The next install takes over the dead process's lock, clears its temp files and completes.
    server.routes.set('/kill/v2.tgz', { body: v2 });
    const again = await cli(['plugin', 'install', '--json'], dir);
    expect(JSON.parse(again.stdout).plugins[0]).toMatchObject({ status: 'updated', version: '2.0.0' });
    expect(handshakeName(exe)).toBe('killme@2.0.0');
    expect(readdirSync(join(dir, '.plugins')).filter((n) => n.startsWith('.optimus-tmp-'))).toEqual([]);
  });
});
