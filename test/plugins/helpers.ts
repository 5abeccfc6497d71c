/** Test fixtures built at run time: plugin executables, archives (well-formed and hostile), servers. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, gzipSync } from 'node:zlib';
import { afterAll, expect } from 'vitest';
import { loadPluginsConfig, type PluginsSection } from '../../src/plugins/install/config.js';
import type { InstallOptions } from '../../src/plugins/install/installer.js';

const made: string[] = [];

/**
 * A fresh directory in the system temp folder, removed when the test file is done. Its name carries
 * the run's tag, by which leftover-temp-dirs.ts finds what a run left behind.
 */
export function tempDir(prefix = 'optimus-install-'): string {
  const tag = process.env.OPTIMUS_TEST_TMP_TAG;
  const dir = mkdtempSync(join(tmpdir(), tag ? `${prefix}${tag}-` : prefix));
  made.push(dir);
  return dir;
}

// Registered by every test file that imports these helpers (each file loads its own copy).
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs `fn` with the system temp folder (TMPDIR) pointed at a fresh empty directory, and returns
 * what was left in it: whatever `fn` (and the code it calls) did not clean up. Other test files
 * running at the same time use the real temp folder, so they cannot make this report anything.
 */
export async function leftInTmp(fn: () => Promise<void>): Promise<string[]> {
  const own = tempDir('optimus-install-tmp-');
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = own;
  try {
    await fn();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  return readdirSync(own);
}

export function v3Spec(name: string, version = '1.0.0'): Record<string, unknown> {
  return {
    version: 3,
    name,
    description: `${name} plugin`,
    plugin_versions: {
      default: {
        image: `docker.io/acme/${name}`,
        tag: version,
        entrypoint: { shell: '/bin/sh', script: `${name} run` },
      },
    },
  };
}

export function specYaml(name: string, version = '1.0.0'): string {
  return `version: 3
name: ${name}
description: ${name} plugin
plugin_versions:
  default:
    image: docker.io/acme/${name}
    tag: ${version}
    entrypoint: {shell: /bin/sh, script: ${name} run}
`;
}

/** A `#!/bin/sh` plugin answering the handshake (ids start at 1). `padding` makes it bigger. */
export function binaryPlugin(
  name: string,
  version = '1.0.0',
  opts: { padding?: Buffer; protocol?: number } = {},
): Buffer {
  const res = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    result: { protocol: opts.protocol ?? 1, spec: v3Spec(name, version) },
  });
  const script = `#!/bin/sh\nread line\nprintf '%s\\n' '${res}'\nexit 0\n`;
  return opts.padding ? Buffer.concat([Buffer.from(script), opts.padding]) : Buffer.from(script);
}

/** An executable that never answers the handshake properly. */
export function brokenBinary(mode: 'exit' | 'garbage'): Buffer {
  return Buffer.from(
    mode === 'exit' ? '#!/bin/sh\necho "boom" >&2\nexit 3\n' : '#!/bin/sh\nread line\necho "hello there"\n',
  );
}

export interface TarEntry {
  path: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev' | 'fifo' | 'dumpdir';
  data?: Buffer | string;
  linkpath?: string;
  mode?: number;
  /** Claimed size, when it should differ from the data (bombs). */
  size?: number;
}

/** Raw ustar, written by hand so tests can build archives no well-behaved tool would. */
export function tarball(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    const h = Buffer.alloc(512);
    const typeflag = {
      file: '0',
      hardlink: '1',
      symlink: '2',
      chardev: '3',
      dir: '5',
      fifo: '6',
      dumpdir: 'D',
    }[e.type ?? 'file'];
    const size = e.size ?? (e.type === undefined || e.type === 'file' ? data.length : 0);
    h.write(e.path, 0, 100, 'utf8');
    h.write(`${(e.mode ?? (e.type === 'dir' ? 0o755 : 0o644)).toString(8).padStart(7, '0')}\0`, 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
    h.write(
      `${Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, '0')}\0`,
      136,
    );
    h.write('        ', 148);
    h.write(typeflag, 156);
    if (e.linkpath) h.write(e.linkpath, 157, 100);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h);
    if (size > 0 && data.length) {
      blocks.push(data);
      const pad = (512 - (data.length % 512)) % 512;
      if (pad) blocks.push(Buffer.alloc(pad));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export const tarGz = (entries: TarEntry[]): Buffer => gzipSync(tarball(entries));

export interface ZipEntry {
  path: string;
  data?: Buffer | string;
  /** Unix mode including the file type bits (0o100755 for an executable file). */
  mode?: number;
}

/** A stored (uncompressed) zip, by hand. */
export function zipFile(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const name = Buffer.from(e.path);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, data);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

export type Route =
  | { body: Buffer | string; status?: number; headers?: Record<string, string> }
  | ((req: IncomingMessage, res: ServerResponse, hit: number) => void);

export interface TestServer {
  url: string;
  routes: Map<string, Route>;
  /** Requests per path. */
  hits: Map<string, number>;
  /** Request headers per path (last request). */
  headers: Map<string, IncomingMessage['headers']>;
  total(): number;
  close(): Promise<void>;
}

export async function startServer(): Promise<TestServer> {
  const routes = new Map<string, Route>();
  const hits = new Map<string, number>();
  const headers = new Map<string, IncomingMessage['headers']>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    headers.set(path, req.headers);
    const route = routes.get(path);
    if (!route) {
      res.writeHead(404).end('not found');
      return;
    }
    if (typeof route === 'function') route(req, res, hit);
    else res.writeHead(route.status ?? 200, route.headers ?? {}).end(route.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}`,
    routes,
    hits,
    headers,
    total: () => [...hits.values()].reduce((a, b) => a + b, 0),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Install options for tests: few, quick retries and a short handshake deadline. */
export const FAST_INSTALL: InstallOptions = {
  http: { retries: 1, backoffMs: 5, timeoutMs: 2000 },
  handshakeTimeoutMs: 5000,
};

/** A temp project whose plugins section is `extra` then `list:` + `list`; it must load cleanly. */
export function pluginsProject(list: string, extra = ''): { dir: string; section: PluginsSection } {
  const dir = tempDir();
  const { section, problems } = loadPluginsConfig(writeConfig(dir, `${extra}list:\n${list}`));
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  return { dir, section: section! };
}

export function writeConfig(dir: string, pluginsYaml: string): string {
  const file = join(dir, 'optimus.yaml');
  writeFileSync(file, `version: 1\nproject: {name: test}\nplugins:\n${pluginsYaml.replace(/^/gm, '  ')}\n`);
  return file;
}
