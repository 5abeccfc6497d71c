/**
 * A PostgreSQL for tests and benchmarks: DATABASE_URL when set, else a throwaway cluster from the
 * Debian `postgresql` binaries (initdb + pg_ctl in a temp dir, on a free port, trust auth), removed
 * by `stop()`. As root the server must run as `postgres`, so both commands go through runuser.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export type StartedPostgres = { url: string; stop(): Promise<void> };
export type SkippedPostgres = { skipped: string };

const run = promisify(execFile);

/** The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl. */
function findBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  return readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(root, v, 'bin'))
    .find((bin) => existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl')));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<StartedPostgres | SkippedPostgres> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) return { url: fromEnv, stop: async () => undefined };

  const bin = findBinDir();
  if (!bin) return { skipped: 'no DATABASE_URL and no postgresql binaries (apt-get install postgresql)' };

  const root = userInfo().uid === 0;
  let owner: { uid: number; gid: number } | undefined;
  if (root) {
    const ids = spawnSync('id', ['-u', 'postgres']);
    const gids = spawnSync('id', ['-g', 'postgres']);
    if (ids.status !== 0 || gids.status !== 0) {
      return { skipped: 'running as root and there is no "postgres" user to run the server as' };
    }
    owner = { uid: Number(String(ids.stdout).trim()), gid: Number(String(gids.stdout).trim()) };
  }
  const as = (cmd: string, args: string[]) =>
    root ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args);

  const dir = mkdtempSync(join(tmpdir(), 'optimus-pg-'));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const pgCtl = join(bin, 'pg_ctl');
  const stopNow = () =>
    spawnSync(root ? 'runuser' : pgCtl, [
      ...(root ? ['-u', 'postgres', '--', pgCtl] : []),
      'stop',
      '-D',
      data,
      '-m',
      'immediate',
      '-w',
    ]);
  // A test run that dies without calling stop() must not leave a server behind.
  const onExit = () => {
    stopNow();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await as(join(bin, 'initdb'), [
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--no-sync',
      '--no-instructions',
    ]);
    const port = await freePort();
    await as(pgCtl, [
      'start',
      '-D',
      data,
      '-l',
      log,
      '-w',
      '-t',
      '60',
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
    ]);
    process.once('exit', onExit);
    let stopped = false;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      async stop() {
        if (stopped) return;
        stopped = true;
        process.off('exit', onExit);
        await as(pgCtl, ['stop', '-D', data, '-m', 'fast', '-w']).catch(() => stopNow());
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '';
    onExit();
    const err = e as { message?: string; stderr?: string };
    throw new Error(`cannot start a throwaway PostgreSQL from ${bin}: ${err.stderr || err.message}\n${tail}`);
  }
}
