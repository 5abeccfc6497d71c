/** `plugin install --frozen` (CI): the lock decides, and any disagreement with the config is named. */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPluginsConfig, type PluginsSection } from '../../src/plugins/install/config.js';
import { type InstallOptions, installPlugins } from '../../src/plugins/install/installer.js';
import { specYaml, startServer, type TestServer, tempDir, writeConfig } from './helpers.js';

const fast: InstallOptions = { http: { retries: 0, backoffMs: 5, timeoutMs: 2000 } };
const sha = (b: string) => createHash('sha256').update(b).digest('hex');

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
  server.routes.set('/fz/a.yaml', { body: specYaml('a') });
  server.routes.set('/fz/a2.yaml', { body: specYaml('a', '2.0.0') });
  server.routes.set('/fz/b.yaml', { body: specYaml('b') });
});
afterAll(async () => {
  await server.close();
});

/** A project installed (and locked) with `locked`, then configured with `now`. */
async function drifted(locked: string, now: string): Promise<{ dir: string; section: PluginsSection }> {
  const dir = tempDir();
  const first = loadPluginsConfig(writeConfig(dir, `list:\n${locked}`)).section!;
  expect((await installPlugins(first, fast)).ok).toBe(true);
  return { dir, section: loadPluginsConfig(writeConfig(dir, `list:\n${now}`)).section! };
}

const a = () => `  - {name: a, url: ${server.url}/fz/a.yaml}`;
const b = () => `  - {name: b, url: ${server.url}/fz/b.yaml}`;

describe('plugin install --frozen', () => {
  it('names every disagreement, each on its own line, with the lock path and a hint', async () => {
    const { dir, section } = await drifted(
      `${a()}\n${b()}`,
      `  - {name: a, url: ${server.url}/fz/a2.yaml}\n  - {name: c, url: ${server.url}/fz/b.yaml}`,
    );
    const lockText = readFileSync(join(dir, 'plugins.lock.yaml'), 'utf8');
    await expect(installPlugins(section, { ...fast, frozen: true })).rejects.toMatchObject({
      code: 'PLUGIN_LOCK_MISMATCH',
      category: 'conflict',
      message: [
        `the config and ${join(dir, 'plugins.lock.yaml')} disagree (--frozen):`,
        `  a: source is ${server.url}/fz/a2.yaml in the config, ${server.url}/fz/a.yaml in the lock`,
        '  c: in the config but not in the lock',
        '  b: in the lock but not in the config',
      ].join('\n'),
      hint: 'run `optimus plugin install` without --frozen and commit plugins.lock.yaml',
    });
    expect(readFileSync(join(dir, 'plugins.lock.yaml'), 'utf8')).toBe(lockText);
  });

  it('names a sha256 in the config that differs from the lock', async () => {
    const { section } = await drifted(
      a(),
      `  - {name: a, url: ${server.url}/fz/a.yaml, sha256: "${'1'.repeat(64)}"}`,
    );
    await expect(installPlugins(section, { ...fast, frozen: true })).rejects.toMatchObject({
      message: expect.stringMatching(/\n {2}a: sha256 in the config differs from the lock$/),
    });
  });

  it('accepts a sha256 in the config that is the one locked', async () => {
    const { section } = await drifted(
      a(),
      `  - {name: a, url: ${server.url}/fz/a.yaml, sha256: "${sha(specYaml('a'))}"}`,
    );
    const report = await installPlugins(section, { ...fast, frozen: true });
    expect(report.results.map((r) => r.status)).toEqual(['unchanged']);
    expect(report.lockWritten).toBe(false);
  });

  it('with plugin names, checks only those and ignores locked plugins left out of the config', async () => {
    const { section } = await drifted(`${a()}\n${b()}`, a());
    const report = await installPlugins(section, { ...fast, frozen: true, names: ['a'] });
    expect(report.results.map((r) => [r.name, r.status])).toEqual([['a', 'unchanged']]);
    await expect(installPlugins(section, { ...fast, frozen: true })).rejects.toMatchObject({
      message: expect.stringContaining('b: in the lock but not in the config'),
    });
  });

  it('restores a plugin removed from disk without writing the lock, and refuses other bytes than the locked ones', async () => {
    const { dir, section } = await drifted(a(), a());
    const lockText = readFileSync(join(dir, 'plugins.lock.yaml'), 'utf8');
    rmSync(join(dir, '.plugins'), { recursive: true });
    const restored = await installPlugins(section, { ...fast, frozen: true });
    expect(restored).toMatchObject({ ok: true, lockWritten: false, fetched: true });
    expect(readFileSync(join(dir, '.plugins', 'optimus-plugin-a.yaml'), 'utf8')).toBe(specYaml('a'));
    writeFileSync(join(dir, '.plugins', 'optimus-plugin-a.yaml'), 'changed: true\n');
    server.routes.set('/fz/a.yaml', { body: specYaml('a', '9.9.9') });
    try {
      const refused = await installPlugins(section, { ...fast, frozen: true });
      expect(refused.ok).toBe(false);
      expect(refused.results[0]!.error).toMatchObject({
        code: 'PLUGIN_CHECKSUM_MISMATCH',
        message: `a: ${server.url}/fz/a.yaml has sha256 ${sha(specYaml('a', '9.9.9'))}, plugins.lock.yaml expects ${sha(specYaml('a'))}`,
        hint: expect.stringContaining('optimus plugin install --force <name>'),
      });
      expect(readFileSync(join(dir, 'plugins.lock.yaml'), 'utf8')).toBe(lockText);
      expect(readFileSync(join(dir, '.plugins', 'optimus-plugin-a.yaml'), 'utf8')).toBe('changed: true\n');
    } finally {
      server.routes.set('/fz/a.yaml', { body: specYaml('a') });
    }
  });
});
