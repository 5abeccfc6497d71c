import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { api, generatedJob, startServe } from '../helpers/serve-process.js';
import { exampleJobs } from '../helpers/server.js';
import { tempDir } from '../helpers/temp-project.js';

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

  it('refuses to listen beyond loopback without tokens', async () => {
    const dataDir = join(tempDir(), 'data');
    await expect(startServe(dataDir, ['--host', '0.0.0.0'])).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0 without auth tokens/,
    );
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
