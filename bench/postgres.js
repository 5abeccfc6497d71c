// A throwaway PostgreSQL cluster for benchmarks: DATABASE_URL when set, else Debian's binaries in a
// temp dir on a free port (run as the postgres user when we are root). Never used by the product.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function binDir() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(base, v, 'bin/initdb'))) return join(base, v, 'bin');
  return undefined;
}

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function startPostgres() {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  const bin = binDir();
  if (!bin) return { skipped: 'no DATABASE_URL and no postgresql binaries (apt-get install postgresql)' };
  const dir = mkdtempSync(join(tmpdir(), 'optimus-pg-'));
  const asRoot = process.getuid?.() === 0;
  let uid;
  if (asRoot) {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()));
  }
  const run = (cmd, args) => {
    const full = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]]
      : [join(bin, cmd), args];
    const r = spawnSync(full[0], full[1], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  const port = await freePort();
  run('initdb', ['-A', 'trust', '-U', 'postgres', '-D', join(dir, 'data')]);
  run('pg_ctl', [
    'start',
    '-w',
    '-D',
    join(dir, 'data'),
    '-l',
    join(dir, 'log'),
    '-o',
    `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`,
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      try {
        run('pg_ctl', ['stop', '-m', 'immediate', '-D', join(dir, 'data')]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
