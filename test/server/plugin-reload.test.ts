import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Problem } from '../../src/core/problem.js';
import { createApp } from '../../src/server/app.js';
import { loadPluginRegistry } from '../../src/server/plugin-registry.js';
import { createSecretCipher } from '../../src/services/secret-cipher.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/store.js';
import { APP_KEY } from '../helpers/server.js';
import { tempDir, v3Plugin } from '../helpers/temp-project.js';

let store: Store;
beforeAll(async () => {
  store = await createStore({});
}, 60_000);
afterAll(async () => {
  await store.close();
});

const spec = (name: string) => `optimus-plugin-${name}.yaml`;

async function serverOn(
  dir: string,
  tokens: string[] = [],
  prepare?: () => Promise<{ problems: Problem[] }>,
) {
  const plugins = await loadPluginRegistry(dir, prepare ? { prepare } : {});
  const app = await createApp({
    store,
    plugins,
    cipher: createSecretCipher(APP_KEY),
    tokens,
    version: 'test',
  });
  const get = async (url: string, headers: Record<string, string> = {}) =>
    (await app.inject({ method: 'GET', url, headers })).json();
  const reload = async (headers: Record<string, string> = {}) => {
    const r = await app.inject({ method: 'POST', url: '/api/v1beta1/plugins/reload', headers });
    return { status: r.statusCode, json: r.json() };
  };
  const names = async (headers: Record<string, string> = {}) =>
    (await get('/api/v1beta1/plugins', headers)).plugins.map((p: { name: string }) => p.name);
  const zipNames = async () =>
    Object.keys(unzipSync((await app.inject({ method: 'GET', url: '/plugins' })).rawPayload)).sort();
  return { app, plugins, get, reload, names, zipNames };
}

describe('plugin reload (POST /api/v1beta1/plugins/reload)', () => {
  it('serves the new set in one step and lists what was added, removed and changed', async () => {
    const dir = tempDir({ [spec('audit')]: v3Plugin('audit'), [spec('notify')]: v3Plugin('notify') });
    const s = await serverOn(dir);
    try {
      writeFileSync(join(dir, spec('load')), v3Plugin('load'));
      rmSync(join(dir, spec('notify')));
      writeFileSync(join(dir, spec('audit')), v3Plugin('audit', 'description: counts rows\n'));
      const r = await s.reload();
      expect(r).toMatchObject({
        status: 200,
        json: { plugins: 2, added: ['load'], removed: ['notify'], changed: ['audit'], unchanged: 0 },
      });
      expect(await s.names()).toEqual(['audit', 'load']);
      expect((await s.get('/api/v1beta1/plugins/audit')).plugin.description).toBe('counts rows');
      expect(await s.zipNames()).toEqual([spec('audit'), spec('load')]);

      const again = await s.reload();
      expect(again.json).toMatchObject({ plugins: 2, added: [], removed: [], changed: [], unchanged: 2 });
    } finally {
      await s.app.close();
    }
  });

  it('keeps serving the old set when a spec of the new one is invalid, and says which and why', async () => {
    const dir = tempDir({ [spec('audit')]: v3Plugin('audit') });
    const s = await serverOn(dir);
    try {
      const zipBefore = (await s.app.inject({ method: 'GET', url: '/plugins' })).rawPayload;
      writeFileSync(join(dir, spec('load')), v3Plugin('load'));
      writeFileSync(join(dir, spec('broken')), 'version: 3\nname: broken\nplugin_versions: [oops\n');
      const r = await s.reload();
      expect(r.status).toBe(409);
      expect(r.json).toMatchObject({
        code: 'PLUGIN_RELOAD_REFUSED',
        message: expect.stringContaining('still serving the previous 1 plugin(s)'),
        hint: expect.any(String),
        details: [{ severity: 'error', file: expect.stringContaining(spec('broken')) }],
      });
      expect(await s.names()).toEqual(['audit']);
      expect((await s.app.inject({ method: 'GET', url: '/plugins' })).rawPayload).toEqual(zipBefore);

      rmSync(join(dir, spec('broken')));
      expect((await s.reload()).json).toMatchObject({ added: ['load'] });
    } finally {
      await s.app.close();
    }
  });

  it('refuses a reload when the install location has gone, and keeps the old set', async () => {
    const root = tempDir({ [`plugins/${spec('audit')}`]: v3Plugin('audit') });
    const s = await serverOn(join(root, 'plugins'));
    try {
      rmSync(join(root, 'plugins'), { recursive: true });
      const r = await s.reload();
      expect(r.status).toBe(409);
      expect(r.json.details[0].message).toContain('does not exist');
      expect(await s.names()).toEqual(['audit']);
    } finally {
      await s.app.close();
    }
  });

  it('refuses a reload when the step before it (the installer) reports a failure', async () => {
    const dir = tempDir({ [spec('audit')]: v3Plugin('audit') });
    const s = await serverOn(dir, [], async () => ({
      problems: [
        { severity: 'error', code: 'PLUGIN_FETCH_FAILED', message: 'plugin load failed to install' },
      ],
    }));
    try {
      writeFileSync(join(dir, spec('load')), v3Plugin('load'));
      const r = await s.reload();
      expect(r.status).toBe(409);
      expect(r.json.details).toMatchObject([
        { code: 'PLUGIN_FETCH_FAILED', message: 'plugin load failed to install' },
      ]);
      expect(await s.names()).toEqual(['audit']);
    } finally {
      await s.app.close();
    }
  });

  it('needs a bearer token when the server has tokens', async () => {
    const dir = tempDir({ [spec('audit')]: v3Plugin('audit') });
    const s = await serverOn(dir, ['tok-reload']);
    try {
      writeFileSync(join(dir, spec('load')), v3Plugin('load'));
      expect((await s.reload()).status).toBe(401);
      expect((await s.reload({ authorization: 'Bearer wrong' })).status).toBe(403);
      const auth = { authorization: 'Bearer tok-reload' };
      expect(await s.names(auth)).toEqual(['audit']);
      expect(await s.reload(auth)).toMatchObject({ status: 200, json: { added: ['load'] } });
      expect(await s.names(auth)).toEqual(['audit', 'load']);
    } finally {
      await s.app.close();
    }
  });

  it('is in the OpenAPI document, as an authenticated route', async () => {
    const s = await serverOn(tempDir({ [spec('audit')]: v3Plugin('audit') }));
    try {
      const doc = await s.get('/api/openapi.json');
      expect(doc.paths['/api/v1beta1/plugins/reload'].post).toMatchObject({
        operationId: 'reloadPlugins',
        security: [{ bearer: [] }],
      });
    } finally {
      await s.app.close();
    }
  });

  it('validates deploys with the reloaded specs, even content it validated before', async () => {
    const dir = tempDir({ [spec('load')]: v3Plugin('load') });
    const s = await serverOn(dir);
    const inject = async (method: 'POST', url: string, payload: unknown) => {
      const r = await s.app.inject({ method, url, payload: payload as Record<string, unknown> });
      return { status: r.statusCode, json: r.json() };
    };
    try {
      await inject('POST', '/api/v1beta1/project', { project: { name: 'reload-p' } });
      await inject('POST', '/api/v1beta1/project/reload-p/namespace', { namespace: { name: 'n' } });
      const job = {
        version: 3,
        name: 'j1',
        owner: 'data@acme.example',
        schedule: { start_date: '2026-01-01', interval: '0 * * * *' },
        task: { name: 'load', config: { MODE: 'append' }, window: { size: '1h' } },
      };
      const deploy = () =>
        inject('POST', '/api/v1beta1/project/reload-p/namespace/n/deploy', { jobs: [job] });
      expect((await deploy()).status).toBe(200);

      writeFileSync(
        join(dir, spec('load')),
        v3Plugin('load', 'configs:\n  - {name: TABLE, description: target table, required: true}\n'),
      );
      expect((await s.reload()).json.changed).toEqual(['load']);
      const refused = await deploy();
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.json.details)).toContain('TABLE');
    } finally {
      await s.app.close();
    }
  });
});

describe('the plugin registry across a reload', () => {
  it('keeps the set a request already holds whole, while new requests get the new set', async () => {
    const dir = tempDir({ [spec('audit')]: v3Plugin('audit') });
    const registry = await loadPluginRegistry(dir);
    const held = registry.current();
    writeFileSync(join(dir, spec('load')), v3Plugin('load'));
    await registry.reload();
    expect([...held.plugins.keys()]).toEqual(['audit']);
    expect(Object.keys(unzipSync(held.zip()))).toEqual([spec('audit')]);
    expect([...registry.current().plugins.keys()]).toEqual(['audit', 'load']);
    expect(registry.current().plugins).not.toBe(held.plugins);
  });

  it('runs reloads asked at once one after the other, each seeing the files as they are', async () => {
    const dir = tempDir({ [spec('audit')]: v3Plugin('audit') });
    const registry = await loadPluginRegistry(dir);
    writeFileSync(join(dir, spec('load')), v3Plugin('load'));
    const [a, b] = await Promise.all([registry.reload(), registry.reload()]);
    expect(a).toMatchObject({ ok: true, added: ['load'] });
    expect(b).toMatchObject({ ok: true, added: [], unchanged: 2 });
  });

  it('makes the same zip for the same specs, so its fingerprint only changes with them', async () => {
    const dir = tempDir({ [spec('audit')]: v3Plugin('audit'), [spec('load')]: v3Plugin('load') });
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2026-01-01T10:00:00Z'));
      const one = (await loadPluginRegistry(dir)).zip();
      vi.setSystemTime(new Date('2026-03-01T17:30:00Z'));
      const two = (await loadPluginRegistry(dir)).zip();
      expect(Buffer.from(two).equals(Buffer.from(one))).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
