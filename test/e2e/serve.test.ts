import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { api, generatedJob, type ServeProcess, startServe } from '../helpers/serve-process.js';
import { exampleJobs } from '../helpers/server.js';
import { EXAMPLE_PLUGINS, tempDir, v3Plugin } from '../helpers/temp-project.js';

const BIN = join(import.meta.dirname, '../../bin/optimus.js');
const hasScript = spawnSync('script', ['--version']).status === 0;

async function stop(s: ServeProcess): Promise<void> {
  s.child.kill('SIGTERM');
  await s.exited;
}

const pluginNames = async (url: string, headers: Record<string, string> = {}) =>
  (
    (await (await fetch(`${url}/api/v1beta1/plugins`, { headers })).json()) as { plugins: { name: string }[] }
  ).plugins.map((p) => p.name);

describe('optimus serve (real socket)', () => {
  it('runs on the defaults, keeps its app key private, survives a restart, and stops cleanly', async () => {
    const dataDir = join(tempDir(), 'data');
    let s = await startServe(dataDir);
    try {
      expect((await api(s.url, 'GET', '/ping')).json).toEqual({ status: 'ok' });
      expect(statSync(join(dataDir, 'app.key')).mode & 0o777).toBe(0o600);
      expect(
        (await api(s.url, 'POST', '/api/v1beta1/project', { project: { name: 'acme-analytics' } })).status,
      ).toBe(200);
      expect(
        (
          await api(s.url, 'POST', '/api/v1beta1/project/acme-analytics/namespace', {
            namespace: { name: 'marketing' },
          })
        ).status,
      ).toBe(200);
      const secret = await api(s.url, 'POST', '/api/v1beta1/project/acme-analytics/secret/SLACK_TOKEN', {
        value: Buffer.from('xoxb').toString('base64'),
      });
      expect(secret.status).toBe(201);
      const d = await api(s.url, 'POST', '/api/v1beta1/project/acme-analytics/namespace/marketing/deploy', {
        jobs: exampleJobs('marketing'),
      });
      expect(d.status).toBe(200);
      expect(d.json.deploy.added).toEqual(['attribution', 'campaign-performance']);
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      expect(s.stderr()).toContain('SIGTERM: shutting down');

      s = await startServe(dataDir);
      const jobs = await api(s.url, 'GET', '/api/v1beta1/project/acme-analytics/namespace/marketing/job');
      expect(jobs.json.jobs.map((j: { name: string }) => j.name)).toEqual([
        'attribution',
        'campaign-performance',
      ]);
      const again = await api(
        s.url,
        'POST',
        '/api/v1beta1/project/acme-analytics/namespace/marketing/deploy',
        { jobs: exampleJobs('marketing') },
      );
      expect(again.json.deploy.status).toBe('unchanged');
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  it('installs the plugins of its config first with --install-plugins, and logs no secret or token', async () => {
    const root = tempDir();
    const examples = join(import.meta.dirname, '../../examples');
    const config = `plugins:
  install_location: ${JSON.stringify(join(root, 'plugins'))}
  providers: [{name: ex, type: file, root: ${JSON.stringify(examples)}}]
  list:
    - {name: audit, provider: ex, url: plugins/optimus-plugin-data-audit.yaml}
    - {name: row-check, provider: ex, url: binary-plugin/row-count-check}
`;
    const s = await startServe(
      join(root, 'data'),
      ['--install-plugins'],
      { OPTIMUS_AUTH_TOKENS: 'tok-not-in-logs', OPTIMUS_LOG_LEVEL: 'info' },
      config,
    );
    try {
      const headers = { authorization: 'Bearer tok-not-in-logs', 'content-type': 'application/json' };
      const plugins = (await (await fetch(`${s.url}/api/v1beta1/plugins`, { headers })).json()) as {
        plugins: { name: string; kind: string }[];
      };
      expect(plugins.plugins.map((p: { name: string; kind: string }) => `${p.name}:${p.kind}`)).toEqual([
        'audit:yaml',
        'row-check:binary',
      ]);
      await fetch(`${s.url}/api/v1beta1/project`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ project: { name: 'p' } }),
      });
      const value = Buffer.from('value-not-in-logs').toString('base64');
      const r = await fetch(`${s.url}/api/v1beta1/project/p/secret/S1`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ value }),
      });
      expect(r.status).toBe(201);
      expect(s.stderr()).toContain('installing plugins into');
      // The request is logged when the response finishes, which can be after the client has it.
      await expect
        .poll(() => s.stdout(), { timeout: 5000 })
        .toContain('"url":"/api/v1beta1/project/p/secret/S1"');
      for (const text of [s.stdout(), s.stderr()]) {
        expect(text).not.toContain('tok-not-in-logs');
        expect(text).not.toContain(value);
        expect(text).not.toContain('value-not-in-logs');
      }
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  it('takes the three kinds of token from its config: a read-only one reads and writes nothing, and the console knows', async () => {
    const dataDir = join(tempDir(), 'data');
    const s = await startServe(
      dataDir,
      [],
      { OPTIMUS_TEST_RO_TOKEN: 'ro-token-from-env-000000' },
      `serve:\n  host: 127.0.0.1\n  auth:\n    tokens:\n      - full-token-0000000000000\n      - {token: "\${OPTIMUS_TEST_RO_TOKEN}", read_only: true}\n      - {token: secret-token-00000000000, read_secrets: true}\nplugins: {install_location: ${JSON.stringify(EXAMPLE_PLUGINS)}}\n`,
    );
    try {
      const call = async (token: string, method: string, path: string, body?: unknown) => {
        const r = await fetch(s.url + path, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: r.status, json: (await r.json()) as Record<string, unknown> };
      };
      const ro = 'ro-token-from-env-000000';
      expect((await call(ro, 'GET', '/api/v1beta1/project')).status).toBe(200);
      const write = await call(ro, 'POST', '/api/v1beta1/project', { project: { name: 'p' } });
      expect(write.status).toBe(403);
      expect(write.json.code).toBe('TOKEN_READ_ONLY');
      expect(JSON.stringify(write.json)).not.toContain(ro);
      expect(
        (await call('full-token-0000000000000', 'POST', '/api/v1beta1/project', { project: { name: 'p' } }))
          .status,
      ).toBe(200);
      const who = async (token: string) => (await call(token, 'GET', '/api/v1beta1/whoami')).json;
      expect(await who(ro)).toEqual({
        auth_required: true,
        authenticated: true,
        can_write: false,
        can_read_secrets: false,
      });
      expect(await who('full-token-0000000000000')).toMatchObject({
        can_write: true,
        can_read_secrets: false,
      });
      expect(await who('secret-token-00000000000')).toMatchObject({
        can_write: true,
        can_read_secrets: true,
      });
      // The console is served to anyone; what it shows comes from the API with the tab's token.
      const page = await fetch(`${s.url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    } finally {
      await stop(s);
    }
  });

  it('refuses to listen beyond loopback without tokens', async () => {
    const dataDir = join(tempDir(), 'data');
    await expect(startServe(dataDir, ['--host', '0.0.0.0'])).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0 without auth tokens/,
    );
  });
});

describe('optimus serve logs', () => {
  it('prints readable request lines with --log-format pretty, and still no secret or token', async () => {
    const dataDir = join(tempDir(), 'data');
    const token = 'tok-not-in-pretty-logs';
    const s = await startServe(dataDir, ['--log-format', 'pretty'], {
      OPTIMUS_AUTH_TOKENS: token,
      OPTIMUS_LOG_LEVEL: 'info',
      NO_COLOR: '1',
    });
    try {
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      await fetch(`${s.url}/api/v1beta1/project`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ project: { name: 'p' } }),
      });
      const value = Buffer.from('value-not-in-pretty-logs').toString('base64');
      const r = await fetch(`${s.url}/api/v1beta1/project/p/secret/S1`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ value }),
      });
      expect(r.status).toBe(201);
      // A token in the query string is refused; it must not reach the log either.
      await fetch(`${s.url}/api/v1beta1/plugins?token=${token}`);
      await expect
        .poll(() => s.stdout(), { timeout: 5000 })
        .toMatch(/INFO: POST \/api\/v1beta1\/project\/p\/secret\/S1 201 [\d.]+ ms/);
      await expect.poll(() => s.stdout(), { timeout: 5000 }).toMatch(/GET \/api\/v1beta1\/plugins 40\d/);
      const logLines = s
        .stdout()
        .split('\n')
        .filter((l) => l && !l.startsWith('{"listening"'));
      expect(logLines.filter((l) => l.startsWith('{'))).toEqual([]);
      // One line per request: the "incoming request" record is not shown.
      expect(s.stdout()).not.toContain('incoming request');
      expect(s.stderr()).toMatch(
        /optimus server listening on http:\/\/127\.0\.0\.1:\d+ · store: embedded, .*store · data dir: .*data · 5 plugin\(s\) · auth on/,
      );
      for (const text of [s.stdout(), s.stderr()]) {
        expect(text).not.toContain(token);
        expect(text).not.toContain(value);
        expect(text).not.toContain('value-not-in-pretty-logs');
      }
    } finally {
      await stop(s);
    }
  });

  it.skipIf(!hasScript)(
    'prints readable lines by default in a terminal, and stops when the terminal closes',
    async () => {
      const root = tempDir();
      const config = join(root, 'server.yaml');
      writeFileSync(config, `plugins: {install_location: ${JSON.stringify(EXAMPLE_PLUGINS)}}\n`);
      const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
      const command = [
        process.execPath,
        BIN,
        'serve',
        '-c',
        config,
        '--data-dir',
        join(root, 'data'),
        '--port',
        '0',
      ]
        .map(quote)
        .join(' ');
      // `script` gives the server a pseudo-terminal for stdout and stderr.
      const term = spawn('script', ['-qfec', command, '/dev/null'], {
        env: { ...process.env, NO_COLOR: '1', OPTIMUS_LOG_LEVEL: 'info' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let screen = '';
      term.stdout.on('data', (d) => {
        screen += d;
      });
      const closed = new Promise((done) => term.on('close', done));
      try {
        await expect
          .poll(() => screen, { timeout: 60_000 })
          .toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
        const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(screen)![1]!;
        expect((await fetch(`${url}/ping`)).status).toBe(200);
        await expect.poll(() => screen, { timeout: 5000 }).toMatch(/INFO: GET \/ping 200/);
        expect(screen).not.toContain('{"level"');
        expect(screen).toContain('· 5 plugin(s) · auth off');

        // Closing the terminal sends the server SIGHUP: it stops instead of reloading for nobody.
        term.kill('SIGKILL');
        await closed;
        await expect
          .poll(
            () =>
              fetch(`${url}/ping`).then(
                () => 'up',
                () => 'down',
              ),
            { timeout: 20_000 },
          )
          .toBe('down');
      } finally {
        term.kill('SIGKILL');
      }
    },
    90_000,
  );
});

describe('plugins reloaded without a restart', () => {
  it('reloads on SIGHUP, and keeps the old set when the new one does not load', async () => {
    const root = tempDir({ 'plugins/optimus-plugin-audit.yaml': v3Plugin('audit') });
    const plugins = join(root, 'plugins');
    const s = await startServe(
      join(root, 'data'),
      [],
      { OPTIMUS_LOG_LEVEL: 'info' },
      `plugins: {install_location: ${JSON.stringify(plugins)}}\n`,
    );
    try {
      expect(await pluginNames(s.url)).toEqual(['audit']);
      writeFileSync(join(plugins, 'optimus-plugin-load.yaml'), v3Plugin('load'));
      s.child.kill('SIGHUP');
      await expect.poll(() => pluginNames(s.url), { timeout: 15_000 }).toEqual(['audit', 'load']);
      await expect
        .poll(() => s.stdout(), { timeout: 5000 })
        .toContain('plugins reloaded: 2 served, added load');

      rmSync(join(plugins, 'optimus-plugin-audit.yaml'));
      writeFileSync(
        join(plugins, 'optimus-plugin-bad.yaml'),
        'version: 3\nname: bad\nplugin_versions: [oops\n',
      );
      s.child.kill('SIGHUP');
      await expect
        .poll(() => s.stdout(), { timeout: 15_000 })
        .toContain('plugin reload refused, still serving the previous 2 plugin(s)');
      const refusal = s
        .stdout()
        .split('\n')
        .find((l) => l.includes('plugin reload refused'))!;
      expect(refusal).toContain('optimus-plugin-bad.yaml');
      expect(JSON.parse(refusal)).toMatchObject({ level: 40, problems: [{ severity: 'error' }] });
      expect(await pluginNames(s.url)).toEqual(['audit', 'load']);
    } finally {
      await stop(s);
    }
    expect(await s.exited).toBe(0);
  });

  it('reloads on an authorised POST /api/v1beta1/plugins/reload', async () => {
    const root = tempDir({ 'plugins/optimus-plugin-audit.yaml': v3Plugin('audit') });
    const plugins = join(root, 'plugins');
    const s = await startServe(
      join(root, 'data'),
      [],
      { OPTIMUS_AUTH_TOKENS: 'tok-reload' },
      `plugins: {install_location: ${JSON.stringify(plugins)}}\n`,
    );
    try {
      writeFileSync(join(plugins, 'optimus-plugin-load.yaml'), v3Plugin('load'));
      const reload = (headers: Record<string, string>) =>
        fetch(`${s.url}/api/v1beta1/plugins/reload`, { method: 'POST', headers });
      expect((await reload({})).status).toBe(401);
      const ok = await reload({ authorization: 'Bearer tok-reload' });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ plugins: 2, added: ['load'], removed: [], changed: [] });
      expect(await pluginNames(s.url, { authorization: 'Bearer tok-reload' })).toEqual(['audit', 'load']);
    } finally {
      await stop(s);
    }
  });

  it('with --install-plugins, SIGHUP installs the plugin list as the config now says, then reloads', async () => {
    const root = tempDir();
    const examples = join(import.meta.dirname, '../../examples');
    const config = (names: string[]) => `plugins:
  install_location: ${JSON.stringify(join(root, 'plugins'))}
  providers: [{name: ex, type: file, root: ${JSON.stringify(examples)}}]
  list:
${names.map((n) => `    - {name: ${n}, provider: ex, url: plugins/optimus-plugin-${n}.yaml}`).join('\n')}
`;
    const s = await startServe(join(root, 'data'), ['--install-plugins'], {}, config(['data-audit']));
    try {
      expect(await pluginNames(s.url)).toEqual(['data-audit']);
      const file = readdirSync(root).find((f) => /^server-.*\.yaml$/.test(f))!;
      writeFileSync(join(root, file), config(['data-audit', 'slack-notify']));
      s.child.kill('SIGHUP');
      await expect
        .poll(() => pluginNames(s.url), { timeout: 20_000 })
        .toEqual(['data-audit', 'slack-notify']);

      // A list entry that cannot be installed: nothing changes, and the log says why.
      writeFileSync(join(root, file), config(['data-audit', 'slack-notify', 'no-such-plugin']));
      s.child.kill('SIGHUP');
      await expect
        .poll(() => s.stdout(), { timeout: 20_000 })
        .toMatch(/plugin reload refused, still serving the previous 2 plugin\(s\): .*no-such-plugin/);
      expect(await pluginNames(s.url)).toEqual(['data-audit', 'slack-notify']);
    } finally {
      await stop(s);
    }
  });
});

describe('crash safety', () => {
  it('after a SIGKILL in the middle of a large deploy, a restart finds the whole old or the whole new state', async () => {
    const dataDir = join(tempDir(), 'data');
    const OLD = 600;
    const NEW = 3000;
    let s = await startServe(dataDir);
    await api(s.url, 'POST', '/api/v1beta1/project', { project: { name: 'p' } });
    await api(s.url, 'POST', '/api/v1beta1/project/p/namespace', { namespace: { name: 'n' } });
    const old = await api(s.url, 'POST', '/api/v1beta1/project/p/namespace/n/deploy', {
      jobs: Array.from({ length: OLD }, (_, i) => generatedJob(i, 'old')),
    });
    expect(old.json.deploy.added).toHaveLength(OLD);
    const oldHashes = new Map(
      (await api(s.url, 'GET', '/api/v1beta1/project/p/namespace/n/job')).json.jobs.map(
        (j: { name: string; hash: string }) => [j.name, j.hash],
      ),
    );

    const outcomes: string[] = [];
    for (const delay of [150, 600, 1500]) {
      const body = JSON.stringify({
        jobs: Array.from({ length: NEW }, (_, i) => generatedJob(i, `new-${delay}`)),
      });
      const pending = fetch(`${s.url}/api/v1beta1/project/p/namespace/n/deploy`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      }).catch(() => 'killed');
      await new Promise((r) => setTimeout(r, delay));
      s.child.kill('SIGKILL');
      await s.exited;
      await pending;
      s = await startServe(dataDir);
      const jobs: { name: string; hash: string }[] = (
        await api(s.url, 'GET', '/api/v1beta1/project/p/namespace/n/job')
      ).json.jobs;
      if (jobs.length === OLD && jobs.every((j) => oldHashes.get(j.name) === j.hash)) outcomes.push('old');
      else {
        expect(jobs).toHaveLength(NEW);
        const one = (await api(s.url, 'GET', '/api/v1beta1/project/p/namespace/n/job/gen-0')).json.job;
        expect(one.spec.description).toBe(`generated new-${delay}`);
        const last = (await api(s.url, 'GET', `/api/v1beta1/project/p/namespace/n/job/gen-${NEW - 1}`)).json
          .job;
        expect(last.spec.description).toBe(`generated new-${delay}`);
        outcomes.push('new');
        // Put the old state back so the next round starts from it.
        await api(s.url, 'POST', '/api/v1beta1/project/p/namespace/n/deploy', {
          jobs: Array.from({ length: OLD }, (_, i) => generatedJob(i, 'old')),
        });
      }
    }
    s.child.kill('SIGTERM');
    await s.exited;
    expect(outcomes.every((o) => o === 'old' || o === 'new')).toBe(true);
  }, 180_000);
});
