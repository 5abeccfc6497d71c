import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createModHost,
  type ModHost,
  type ModOutcome,
  type ModRequest,
} from '../../../src/plugins/mods/mod-host.js';
import { tempPluginDir, writeFakePlugin } from './fake-plugins.js';

const req = (name: string, config: Record<string, string> = {}, secrets?: string[]): ModRequest => ({
  params: { job: { project: 'acme', namespace: 'marketing', name, labels: {} }, config, assets: {} },
  ...(secrets ? { secrets } : {}),
});

const spawnCount = (dir: string, name: string) =>
  readFileSync(join(dir, `${name}.pids`), 'utf8')
    .split('\n')
    .filter(Boolean).length;

const errorOf = (o: ModOutcome | undefined) => (o && !o.ok ? o.error : undefined);

describe('mod host', () => {
  let host: ModHost | undefined;
  const dirs: { cleanup(): void }[] = [];
  const tmp = () => {
    const t = tempPluginDir();
    dirs.push(t);
    return t.dir;
  };
  afterEach(async () => {
    await host?.close();
    host = undefined;
    for (const d of dirs.splice(0)) d.cleanup();
  });

  it('answers each job with its destination and dependencies', async () => {
    const dir = tmp();
    const file = writeFakePlugin(dir, 'bq2bq');
    host = createModHost({ poolSize: 2 });
    const out = await host.resolve({ name: 'bq2bq', file }, [
      req('a', { DEST: 'p:d.a', READS: 'p:d.x,p:d.y' }),
      req('b', {}),
    ]);
    expect(out).toEqual([
      {
        ok: true,
        destination: 'bigquery://p:d.a',
        dependencies: ['bigquery://p:d.x', 'bigquery://p:d.y'],
        warnings: [],
      },
      { ok: true, destination: null, dependencies: [], warnings: [] },
    ]);
  });

  it('keeps at most the pool size of processes across 1,000 jobs and reuses them', async () => {
    const dir = tmp();
    const file = writeFakePlugin(dir, 'bq2bq');
    host = createModHost({ poolSize: 3, maxBatch: 40 });
    const reqs = Array.from({ length: 1000 }, (_, i) => req(`job${i}`, { DEST: `p:d.t${i}` }));
    const first = await host.resolve({ name: 'bq2bq', file }, reqs);
    const second = await host.resolve({ name: 'bq2bq', file }, reqs);
    expect(first.every((o) => o.ok)).toBe(true);
    expect(second[999]).toEqual({
      ok: true,
      destination: 'bigquery://p:d.t999',
      dependencies: [],
      warnings: [],
    });
    expect(spawnCount(dir, 'bq2bq')).toBeLessThanOrEqual(3);
  });

  it('fails only the job that crashes its plugin, with its stderr, and answers the rest of the batch', async () => {
    const dir = tmp();
    const file = writeFakePlugin(dir, 'bq2bq', {
      perJob: `if (job.name === 'roi') { process.stderr.write('cannot parse query.sql of roi\\n'); process.exit(7); }`,
    });
    host = createModHost({ poolSize: 1 });
    const out = await host.resolve({ name: 'bq2bq', file }, [
      req('before', { DEST: 'p:d.before' }),
      req('roi', { DEST: 'p:d.roi' }),
      req('after', { DEST: 'p:d.after' }),
    ]);
    expect(out[0]).toMatchObject({ ok: true, destination: 'bigquery://p:d.before' });
    expect(out[2]).toMatchObject({ ok: true, destination: 'bigquery://p:d.after' });
    expect(errorOf(out[1])?.message).toMatch(
      /^plugin bq2bq failed for job marketing\/roi: .*code 7.*cannot parse query\.sql of roi/,
    );
    expect(errorOf(out[1])?.hint).toBeTruthy();
  });

  it('restarts a crashed plugin: the next call is served by a new process', async () => {
    const dir = tmp();
    const file = writeFakePlugin(dir, 'bq2bq', { perJob: `if (job.name === 'boom') process.exit(1);` });
    host = createModHost({ poolSize: 1 });
    const crashed = await host.resolve({ name: 'bq2bq', file }, [req('boom')]);
    expect(crashed[0]?.ok).toBe(false);
    const after = await host.resolve({ name: 'bq2bq', file }, [req('fine', { DEST: 'p:d.fine' })]);
    expect(after[0]).toMatchObject({ ok: true, destination: 'bigquery://p:d.fine' });
    expect(spawnCount(dir, 'bq2bq')).toBeGreaterThanOrEqual(2);
  });

  it('fails a job its plugin hangs on after the deadline, and answers the others of its batch', async () => {
    const dir = tmp();
    const file = writeFakePlugin(dir, 'bq2bq', { perJob: `if (job.name === 'stuck') for (;;) {}` });
    host = createModHost({ poolSize: 1, callTimeoutMs: 1500 });
    const out = await host.resolve({ name: 'bq2bq', file }, [
      req('one', { DEST: 'p:d.one' }),
      req('stuck'),
      req('two', { DEST: 'p:d.two' }),
    ]);
    expect(out[0]).toMatchObject({ ok: true, destination: 'bigquery://p:d.one' });
    expect(out[2]).toMatchObject({ ok: true, destination: 'bigquery://p:d.two' });
    expect(errorOf(out[1])).toMatchObject({ code: 'PLUGIN_MOD_TIMEOUT' });
    expect(errorOf(out[1])?.message).toMatch(
      /^plugin bq2bq failed for job marketing\/stuck: no answer within 1500 ms/,
    );
  });

  it('fails only the job whose call makes the plugin write garbage on stdout', async () => {
    const dir = tmp();
    const file = writeFakePlugin(dir, 'bq2bq', {
      perJob: `if (job.name === 'noisy') process.stdout.write('hello there\\n');`,
    });
    host = createModHost({ poolSize: 1 });
    const out = await host.resolve({ name: 'bq2bq', file }, [req('noisy'), req('quiet', { DEST: 'p:d.q' })]);
    expect(errorOf(out[0])?.message).toMatch(/failed for job marketing\/noisy: .*not JSON.*hello there/);
    expect(out[1]).toMatchObject({ ok: true, destination: 'bigquery://p:d.q' });
  });

  it('fails every job of a plugin that exits at its handshake, saying so', async () => {
    const dir = tmp();
    const file = writeFakePlugin(dir, 'bq2bq', {
      atHandshake: `process.stderr.write('missing credentials file\\n'); process.exit(3);`,
    });
    host = createModHost({ poolSize: 2 });
    const out = await host.resolve({ name: 'bq2bq', file }, [req('a'), req('b'), req('c')]);
    for (const o of out) {
      expect(errorOf(o)?.code).toBe('PLUGIN_MOD_FAILED');
      expect(errorOf(o)?.message).toMatch(
        /plugin bq2bq failed its handshake: exited \(code 3\).*missing credentials file/,
      );
    }
  });

  it('refuses a plugin whose handshake names another plugin, without asking it again', async () => {
    const dir = tmp();
    const file = writeFakePlugin(dir, 'bq2bq', { specName: 'predator' });
    host = createModHost({ poolSize: 2 });
    const out = await host.resolve({ name: 'bq2bq', file }, [req('a'), req('b')]);
    const again = await host.resolve({ name: 'bq2bq', file }, [req('c')]);
    for (const o of [...out, ...again]) {
      expect(errorOf(o)?.code).toBe('PLUGIN_MOD_MISMATCH');
      expect(errorOf(o)?.message).toBe('plugin bq2bq: its handshake names plugin "predator"');
    }
    expect(spawnCount(dir, 'bq2bq')).toBe(1);
  });

  it('refuses a plugin whose handshake does not list the dependency resolver', async () => {
    const dir = tmp();
    const file = writeFakePlugin(dir, 'bq2bq', { mods: [] });
    host = createModHost({ poolSize: 1 });
    const out = await host.resolve({ name: 'bq2bq', file }, [req('a')]);
    expect(errorOf(out[0])?.message).toMatch(/does not list dependency_resolver/);
  });

  it('passes a job error answer on as that job’s failure and keeps serving', async () => {
    const dir = tmp();
    const file = writeFakePlugin(dir, 'bq2bq', {
      perJob: `if (job.name === 'nodest' && method === 'generate_destination') return { jsonrpc: '2.0', id, error: { code: -32001, message: 'config TABLE is missing' } };`,
    });
    host = createModHost({ poolSize: 1 });
    const out = await host.resolve({ name: 'bq2bq', file }, [req('nodest'), req('ok', { DEST: 'p:d.ok' })]);
    expect(errorOf(out[0])).toMatchObject({ code: 'PLUGIN_MOD_JOB_ERROR' });
    expect(errorOf(out[0])?.message).toMatch(
      /failed for job marketing\/nodest: config TABLE is missing \(code -32001\)/,
    );
    expect(out[1]).toMatchObject({ ok: true });
    expect(spawnCount(dir, 'bq2bq')).toBe(1);
  });

  it('masks the secret values sent to a plugin in its stderr', async () => {
    const dir = tmp();
    const file = writeFakePlugin(dir, 'bq2bq', {
      perJob: `process.stderr.write('token is ' + (params.config.TOKEN || '') + '\\n');`,
    });
    const lines: string[] = [];
    const logger = { info: (_o: unknown, msg?: string) => lines.push(String(msg)), warn: () => {} };
    host = createModHost({ poolSize: 1, logger: logger as never });
    await host.resolve({ name: 'bq2bq', file }, [req('a', { TOKEN: 's3cr3t-value' }, ['s3cr3t-value'])]);
    await host.close();
    expect(lines).toContain('token is ****');
    expect(lines.join('\n')).not.toContain('s3cr3t-value');
  });

  it('starts new processes for a plugin reinstalled at the same path', async () => {
    const dir = tmp();
    const file = writeFakePlugin(dir, 'bq2bq');
    host = createModHost({ poolSize: 1 });
    await host.resolve({ name: 'bq2bq', file }, [req('a')]);
    writeFakePlugin(dir, 'bq2bq', {
      perJob: `if (method === 'generate_destination') return { jsonrpc: '2.0', id, result: { destination: 'bigquery://p:d.v2' } };`,
    });
    const out = await host.resolve({ name: 'bq2bq', file }, [req('a')]);
    expect(out[0]).toMatchObject({ ok: true, destination: 'bigquery://p:d.v2' });
  });
});
