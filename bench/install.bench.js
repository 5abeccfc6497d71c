// `optimus plugin install` on 50 plugins of 5 MiB .tar.gz each, served by a local HTTP server in a
// child process: a cold install against downloading the same bytes with parallel curl in the same
// run (a ratio), and a second install with nothing changed. Data is generated at run time.
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/optimus.js');
const COUNT = Number(process.env.BENCH_PLUGINS ?? 50);
const SIZE = Number(process.env.BENCH_PLUGIN_MIB ?? 5) * 1024 * 1024;
const CONCURRENCY = 8;
const REPEAT = 3;

/** A ustar archive holding one `#!/bin/sh` plugin that answers the handshake, padded to `size`. */
function pluginTarGz(name, size) {
  const spec = {
    version: 3,
    name,
    plugin_versions: {
      default: { image: `docker.io/bench/${name}`, tag: '1.0.0', entrypoint: { script: 'run' } },
    },
  };
  const res = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { protocol: 1, spec } });
  const script = Buffer.from(`#!/bin/sh\nread line\nprintf '%s\\n' '${res}'\nexit 0\n`);
  const data = Buffer.concat([script, randomBytes(Math.max(0, size - script.length - 1024))]);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000755\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, '0')}\0`,
    136,
  );
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return gzipSync(Buffer.concat([h, data, pad, Buffer.alloc(1024)]), { level: 1 });
}

/** Child process: generate the artifacts and serve them from memory. */
async function serve() {
  const files = new Map();
  for (let i = 0; i < COUNT; i++) files.set(`/p${i}.tar.gz`, pluginTarGz(`p${i}`, SIZE));
  const server = createServer((req, res) => {
    const body = files.get(req.url);
    if (!body) return res.writeHead(404).end();
    res
      .writeHead(200, { 'content-length': String(body.length), 'content-type': 'application/gzip' })
      .end(body);
  });
  server.keepAliveTimeout = 10_000;
  server.listen(0, '127.0.0.1', () => {
    const bytes = [...files.values()].reduce((a, b) => a + b.length, 0);
    process.send({ port: server.address().port, bytes });
  });
  process.on('disconnect', () => process.exit(0));
}

function exec(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err.slice(0, 500)}`)),
    );
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(fn) {
  const t = performance.now();
  const result = await fn();
  return { ms: performance.now() - t, result };
}

export async function run() {
  const { installPlugins } = await import(
    pathToFileURL(join(ROOT, 'dist/plugins/install/installer.js')).href
  );
  const { loadPluginsConfig } = await import(
    pathToFileURL(join(ROOT, 'dist/plugins/install/config.js')).href
  );
  const child = fork(import.meta.filename, ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port, bytes } = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const work = mkdtempSync(join(tmpdir(), 'optimus-install-bench-'));
  try {
    const curlMs = [];
    const installMs = [];
    let dir;
    for (let r = 0; r < REPEAT; r++) {
      const dl = join(work, `curl-${r}`);
      mkdirSync(dl);
      const args = ['--silent', '--fail', '--parallel', '--parallel-max', String(CONCURRENCY)];
      for (let i = 0; i < COUNT; i++) args.push('-o', join(dl, `p${i}.tar.gz`), `${base}/p${i}.tar.gz`);
      // Flush earlier writes first, so neither side pays for the other's dirty pages.
      await exec('sync', []);
      curlMs.push((await timed(() => exec('curl', args))).ms);
      rmSync(dl, { recursive: true, force: true });

      dir = join(work, `project-${r}`);
      mkdirSync(dir);
      const list = Array.from(
        { length: COUNT },
        (_, i) => `    - {name: p${i}, url: "${base}/p${i}.tar.gz"}`,
      ).join('\n');
      writeFileSync(
        join(dir, 'optimus.yaml'),
        `version: 1\nproject: {name: bench}\nplugins:\n  install_location: .plugins\n  list:\n${list}\n`,
      );
      const { section } = loadPluginsConfig(join(dir, 'optimus.yaml'));
      await exec('sync', []);
      const cold = await timed(() => installPlugins(section, { concurrency: CONCURRENCY }));
      if (!cold.result.ok || cold.result.results.some((x) => x.status !== 'installed')) {
        throw new Error(`cold install failed: ${JSON.stringify(cold.result.results.find((x) => x.error))}`);
      }
      installMs.push(cold.ms);
      if (r < REPEAT - 1) rmSync(dir, { recursive: true, force: true });
    }

    const { section } = loadPluginsConfig(join(dir, 'optimus.yaml'));
    const noop = [];
    for (let r = 0; r < 5; r++) {
      const warm = await timed(() => installPlugins(section, { concurrency: CONCURRENCY }));
      if (warm.result.fetched) throw new Error('second install fetched something');
      noop.push(warm.ms);
    }
    const cli = [];
    for (let r = 0; r < 5; r++)
      cli.push(
        (await timed(() => exec(process.execPath, [BIN, 'plugin', 'install', '--json'], { cwd: dir }))).ms,
      );
    const node = [];
    for (let r = 0; r < 5; r++) node.push((await timed(() => exec(process.execPath, ['-e', '0']))).ms);

    const curl = median(curlMs);
    const install = median(installMs);
    return {
      name: 'install',
      rows: [
        { metric: `artifacts: ${COUNT} x .tar.gz`, value: bytes / 1024 / 1024, unit: 'MiB' },
        {
          metric: `baseline: curl --parallel-max ${CONCURRENCY} (median of ${REPEAT})`,
          value: curl / 1000,
          unit: 's',
        },
        {
          metric: `cold install, concurrency ${CONCURRENCY} (median of ${REPEAT})`,
          value: install / 1000,
          unit: 's',
        },
        { metric: 'cold install / curl', value: install / curl, unit: 'x', target: '<= 1.3' },
        {
          metric: 'second install, nothing changed (in process)',
          value: median(noop),
          unit: 'ms',
          target: '< 150',
        },
        { metric: 'second install, nothing changed (CLI process)', value: median(cli), unit: 'ms' },
        { metric: 'baseline: node -e 0', value: median(node), unit: 'ms' },
      ],
    };
  } finally {
    child.disconnect();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv.includes('--serve')) {
  await serve();
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  console.table(r.rows.map((x) => ({ ...x, value: Number(x.value.toFixed(x.value < 10 ? 3 : 1)) })));
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(
    join(import.meta.dirname, 'results', 'install.json'),
    `${JSON.stringify({ at: new Date().toISOString(), ...r }, null, 2)}\n`,
  );
}
