/**
 * Two real `optimus serve` processes (A and B, each with its embedded runner) and a third started
 * with `--no-runner` (C), all on one PostgreSQL, each with its own data directory, port and plugin
 * install (from one `file` provider). Runs triggered through any of them are shared by A and B,
 * every node runs exactly once, and a cancel through one server stops the node the other runs.
 *
 * Which server ran a node: the node appends its `JOB_DIR` (`<data dir>/runs/<run>/<node>/<attempt>`,
 * under the data dir of the server that runs it) and `$PPID` (the process executor spawns the
 * entrypoint directly, so its parent is that server's process). Both must name the same server.
 *
 * The servers use a schema of their own in the database, so runners of other tests that share
 * DATABASE_URL cannot take these nodes (nor these runners theirs).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres } from '../helpers/postgres.js';
import { api, type ServeProcess, startServe } from '../helpers/serve-process.js';

const postgres = await startPostgres();
const pgServer = 'skipped' in postgres ? undefined : postgres;
const skipped = 'skipped' in postgres ? postgres.skipped : undefined;
if (skipped) console.warn(`two-server tests skipped: ${skipped}`);

const PROJECT = 'two-servers';
const P = `/api/v1beta1/project/${PROJECT}`;
const RUNS = 24;
const SECRET = 'a-shared-warehouse-token';

interface Server {
  label: 'A' | 'B' | 'C';
  dataDir: string;
  serve: ServeProcess;
}

/** One line a node appended: which server's directory it ran in, and the pid of its parent. */
interface Mark {
  server: string;
  run: number;
  node: string;
  attempt: number;
  ppid: number;
  /** What the plugin adds: the secret's length (mark), its own pid (nap). */
  value: number;
}

/** Lines `<JOB_DIR> <PPID> <value>` → who ran what, failing on a directory of no server. */
function readMarks(file: string, servers: Server[]): Mark[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [jobDir, ppid, value] = line.split(' ');
      const owner = servers.find((s) => jobDir!.startsWith(join(s.dataDir, 'runs') + sep));
      if (!owner) throw new Error(`a node ran in ${jobDir}, under no server's data dir`);
      const [run, node, attempt] = relative(join(owner.dataDir, 'runs'), jobDir!).split(sep);
      return {
        server: owner.label,
        run: Number(run),
        node: decodeURIComponent(node!),
        attempt: Number(attempt),
        ppid: Number(ppid),
        value: Number(value),
      };
    });
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

describe.skipIf(skipped !== undefined)(
  `two optimus serve processes on one PostgreSQL${skipped ? ` (skipped: ${skipped})` : ''}`,
  () => {
    let root = '';
    let schema = '';
    let marks = '';
    let naps = '';
    const servers: Server[] = [];
    const server = (label: Server['label']) => servers.find((s) => s.label === label)!;

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'optimus-two-servers-'));
      marks = join(root, 'marks');
      naps = join(root, 'naps');
      schema = `optimus_two_servers_${process.pid}_${Date.now().toString(36)}`;
      const admin = new pg.Client({ connectionString: pgServer!.url });
      await admin.connect();
      try {
        await admin.query(`create schema ${schema}`);
      } finally {
        await admin.end();
      }
      const dbUrl = new URL(pgServer!.url);
      dbUrl.searchParams.set('options', `-c search_path=${schema}`);

      // The plugins' source, installed by each server into its own install location.
      const source = join(root, 'plugin-source');
      mkdirSync(source);
      const plugin = (name: string, script: string) => `version: 3
name: ${name}
description: two-server e2e plugin ${name}
plugin_versions:
  default: {image: docker.io/acme/${name}, tag: "1.0.0", entrypoint: {shell: /bin/sh, script: ${JSON.stringify(script)}}}
`;
      // Long enough that the runs outnumber what one server holds at once (concurrency 4) for a
      // while, so both servers take part; the test waits for states and asserts no durations.
      writeFileSync(
        join(source, 'mark.yaml'),
        plugin('mark', `echo "$JOB_DIR $PPID \${#TOKEN}" >> '${marks}'; sleep 1`),
      );
      // exec: the pid the node writes is the process that must be stopped by a cancel.
      writeFileSync(
        join(source, 'nap.yaml'),
        plugin('nap', `echo "$JOB_DIR $PPID $$" >> '${naps}'; exec sleep 300`),
      );

      const start = async (label: Server['label'], args: string[]): Promise<void> => {
        const home = join(root, label);
        mkdirSync(home);
        const config = `serve: {host: 127.0.0.1}
plugins:
  install_location: ${JSON.stringify(join(home, 'plugins'))}
  providers:
    - {name: e2e, type: file, root: ${JSON.stringify(source)}}
  list:
    - {name: mark, provider: e2e, url: mark.yaml}
    - {name: nap, provider: e2e, url: nap.yaml}
scheduler: {concurrency: 4}
`;
        const dataDir = join(home, 'data');
        const serve = await startServe(
          dataDir,
          ['--install-plugins', ...args],
          // One app key for all: a secret stored through one server is decrypted by the other's runner.
          { OPTIMUS_DB_URL: dbUrl.toString(), OPTIMUS_APP_KEY: 'k'.repeat(40) },
          config,
        );
        // Kept as each starts: if another fails to start, afterAll still stops this one.
        servers.push({ label, dataDir, serve });
      };
      // Started at once on a database none has migrated yet: the migrations must not collide.
      await Promise.all([start('A', []), start('B', []), start('C', ['--no-runner'])]);

      const a = server('A').serve.url;
      const setup: [string, string, unknown][] = [
        ['POST', '/api/v1beta1/project', { project: { name: PROJECT } }],
        ['POST', `${P}/namespace`, { namespace: { name: 'team' } }],
        ['POST', `${P}/secret/WH_TOKEN`, { value: Buffer.from(SECRET).toString('base64') }],
      ];
      for (const [method, path, body] of setup) {
        const r = await api(a, method, path, body);
        if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
      }
      const config = { TOKEN: '{{ .secret.WH_TOKEN }}' };
      const job = (name: string, task: string, hooks: unknown[] = []) => ({
        version: 3,
        name,
        owner: 'e2e@acme.example',
        // Far in the future: no server schedules a run of its own, the test triggers them all.
        schedule: { start_date: '2099-01-01', interval: '0 3 * * *' },
        task: { name: task, config, window: { size: '24h' } },
        hooks,
      });
      const deploy = await api(a, 'POST', `${P}/namespace/team/deploy`, {
        jobs: [
          job('stamp', 'mark', [
            { name: 'check', type: 'mark', stage: 'pre', config },
            { name: 'publish', type: 'mark', stage: 'post', config },
          ]),
          job('napping', 'nap'),
        ],
      });
      if (deploy.status !== 200) throw new Error(`deploy: ${deploy.status} ${JSON.stringify(deploy.json)}`);
    }, 180_000);

    afterAll(async () => {
      for (const s of servers) s.serve.child.kill('SIGTERM');
      await Promise.all(servers.map((s) => s.serve.exited));
      if (schema && pgServer) {
        const admin = new pg.Client({ connectionString: pgServer.url });
        await admin.connect();
        await admin.query(`drop schema if exists ${schema} cascade`).finally(() => admin.end());
      }
      await pgServer?.stop();
      if (root) rmSync(root, { recursive: true, force: true });
    }, 60_000);

    it('share runs triggered through any of them, and run each node exactly once', async () => {
      const ids: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        // A, B and the server without a runner take turns.
        const via = servers[i % servers.length]!;
        const r = await api(via.serve.url, 'POST', `${P}/job/stamp/run`, {
          scheduled_at: new Date(Date.UTC(2030, 0, 1, i)).toISOString(),
        });
        expect(r.status, JSON.stringify(r.json)).toBe(201);
        ids.push(r.json.run.id);
      }

      const b = server('B').serve.url;
      const runs = [];
      for (const id of ids) {
        runs.push(
          await until(`run ${id} to end`, async () => {
            const { json } = await api(b, 'GET', `${P}/job/stamp/run/${id}`);
            return json.run?.over ? json.run : undefined;
          }),
        );
      }
      expect(runs.map((r) => [r.id, r.status])).toEqual(ids.map((id) => [id, 'succeeded']));

      const expected = runs.flatMap((r) => r.nodes.map((n: { name: string }) => `${r.id}/${n.name}`)).sort();
      expect(expected).toHaveLength(RUNS * 3);
      const done = readMarks(marks, servers);
      // Exactly once: every node of every run appears, none twice, and none needed a second attempt.
      expect(done.map((m) => `${m.run}/${m.node}`).sort()).toEqual(expected);
      expect(done.filter((m) => m.attempt !== 1)).toEqual([]);
      // The directory and the parent pid agree on who ran each node.
      const pidOf = Object.fromEntries(servers.map((s) => [s.label, s.serve.child.pid]));
      expect(done.filter((m) => m.ppid !== pidOf[m.server])).toEqual([]);
      // Both runners took part; the server started with --no-runner ran nothing, not even the runs
      // triggered through it.
      const count = (label: string) => done.filter((m) => m.server === label).length;
      expect(count('A')).toBeGreaterThan(0);
      expect(count('B')).toBeGreaterThan(0);
      expect(count('C')).toBe(0);
      expect(existsSync(join(server('C').dataDir, 'runs'))).toBe(false);
      // The secret set through A reached every node, whichever server resolved it.
      expect(done.filter((m) => m.value !== SECRET.length)).toEqual([]);
    }, 240_000);

    it('stop a node when its run is cancelled through the other server', async () => {
      const a = server('A');
      const r = await api(a.serve.url, 'POST', `${P}/job/napping/run`, {
        scheduled_at: '2031-01-01T03:00:00Z',
      });
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      const id: number = r.json.run.id;

      const nap = await until('the napping node to start', async () =>
        readMarks(naps, servers).find((m) => m.run === id),
      );
      const runner = server(nap.server as Server['label']);
      const other = servers.find((s) => s !== runner && s.label !== 'C')!;
      // The node's process (the shell exec'd into sleep), a child of the server that runs it.
      expect(nap.ppid).toBe(runner.serve.child.pid);
      // It wrote its line just before exec: wait for the exec, so the cancel stops the sleep itself.
      await until('the napping node to exec sleep', async () =>
        readFileSync(`/proc/${nap.value}/cmdline`, 'utf8') === 'sleep\0' + '300\0' ? true : undefined,
      );

      const cancel = await api(other.serve.url, 'POST', `${P}/job/napping/run/${id}/cancel`);
      expect(cancel.status, JSON.stringify(cancel.json)).toBe(200);
      expect(cancel.json.run.status).toBe('cancelled');

      // The runner's heartbeat sees the cancel, stops the process and records the node as over.
      const run = await until('the cancelled run to be over', async () => {
        const { json } = await api(other.serve.url, 'GET', `${P}/job/napping/run/${id}`);
        return json.run?.over ? json.run : undefined;
      });
      expect(run.status).toBe('cancelled');
      expect(run.nodes.map((n: { name: string; status: string }) => [n.name, n.status])).toEqual([
        ['nap', 'cancelled'],
      ]);
      expect(alive(nap.value)).toBe(false);
      const logs = await api(other.serve.url, 'GET', `${P}/job/napping/run/${id}/logs`);
      expect(logs.json.finished).toBe(true);
      expect(
        logs.json.lines
          .filter((l: { stream: string }) => l.stream === 'system')
          .map((l: { line: string }) => l.line),
      ).toContain('cancelled');
    }, 120_000);
  },
);
