/**
 * `optimus plugin pack` and authoring/pack.ts: yaml and binary artifacts that install through the
 * real installer (a file provider, the printed sha256 pinned), reproducible bytes, the http index,
 * and nothing written for an invalid spec.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { describe, expect, it } from 'vitest';
import { indexWith, joinUrl, tarGzOne } from '../../src/authoring/pack.js';
import { loadPluginsConfig } from '../../src/plugins/install/config.js';
import { installPlugins } from '../../src/plugins/install/installer.js';
import { parseIndex } from '../../src/plugins/install/providers/http.js';
import { handshake } from '../../src/plugins/protocol/handshake.js';
import { runOptimus } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-project.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const SPEC = `# a yaml plugin: comments and layout must survive packing byte for byte
version: 3
name: shout
description: Prints a greeting
plugin_versions:
  default:
    image: docker.io/acme/shout
    tag: "1.4.0"
    entrypoint: {shell: /bin/sh, script: "echo hello"}
configs:
  - {name: GREETING, default: hi}
`;

function binaryProject(name = 'packed', tag = '0.2.0'): string {
  return tempDir({
    'package.json': JSON.stringify({ name, version: '0.1.0', private: true, type: 'module' }),
    'src/main.ts': `import { servePlugin } from '@optimus-ts/plugin-sdk';

servePlugin({
  spec: {
    version: 3,
    name: '${name}',
    description: 'a binary plugin',
    plugin_versions: {
      default: { image: 'docker.io/acme/${name}', tag: '${tag}', entrypoint: { script: 'run' } },
    },
  },
});
`,
  });
}

interface TarItem {
  path: string;
  type: string;
  mode: number;
  uid: number | undefined;
  gid: number | undefined;
  uname: string | undefined;
  gname: string | undefined;
  mtime: number | undefined;
  data: Buffer;
}

/** Every entry of a .tar.gz, read with node-tar's parser (and gunzipped by node's zlib, not fflate). */
function tarEntries(gz: Uint8Array): TarItem[] {
  const items: TarItem[] = [];
  const parser = new Parser({
    onReadEntry: (e: ReadEntry) => {
      const chunks: Buffer[] = [];
      e.on('data', (c: Buffer) => chunks.push(c));
      e.on('end', () =>
        items.push({
          path: e.path,
          type: e.type,
          mode: e.mode ?? -1,
          uid: e.uid,
          gid: e.gid,
          uname: e.uname,
          gname: e.gname,
          mtime: e.mtime?.getTime(),
          data: Buffer.concat(chunks),
        }),
      );
    },
  });
  parser.end(gunzipSync(gz));
  return items;
}

/** Installs `entry` (a plugins.list item) in a fresh project whose `disk` provider is `root`. */
async function install(entry: Record<string, string>, root: string) {
  const dir = tempDir();
  const item = Object.entries(entry)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(', ');
  writeFileSync(
    join(dir, 'optimus.yaml'),
    `version: 1\nproject: {name: t}\nplugins:\n  install_location: .plugins\n  providers:\n    - {name: disk, type: file, root: ${JSON.stringify(root)}}\n  list:\n    - {${item}}\n`,
  );
  const { section, problems } = loadPluginsConfig(join(dir, 'optimus.yaml'));
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  const report = await installPlugins(section!, { handshakeTimeoutMs: 10_000 });
  return { dir, report, location: join(dir, '.plugins') };
}

describe('optimus plugin pack: yaml', () => {
  it('writes the spec unchanged as <name>-<tag>.yaml, an index, and an entry that installs with its sha256', async () => {
    const dir = tempDir({ 'plugin.yaml': SPEC });
    const r = runOptimus(['plugin', 'pack', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const j = r.json();
    const file = join(dir, 'dist', 'shout-1.4.0.yaml');
    expect(readFileSync(file, 'utf8')).toBe(SPEC);
    expect(j).toEqual({
      ok: true,
      kind: 'yaml',
      name: 'shout',
      version: '1.4.0',
      file: 'dist/shout-1.4.0.yaml',
      bytes: Buffer.byteLength(SPEC),
      sha256: sha(Buffer.from(SPEC)),
      index: 'dist/index.yaml',
      entry: {
        name: 'shout',
        provider: '<your provider>',
        url: 'shout-1.4.0.yaml',
        sha256: sha(Buffer.from(SPEC)),
      },
      warnings: [],
    });
    expect(readdirSync(join(dir, 'dist')).sort()).toEqual(['index.yaml', 'shout-1.4.0.yaml']);

    const { report, location } = await install({ ...j.entry, provider: 'disk' }, join(dir, 'dist'));
    expect(report.results.map((x) => [x.name, x.status, x.kind, x.version, x.sha256])).toEqual([
      ['shout', 'installed', 'yaml', '1.4.0', j.sha256],
    ]);
    expect(readFileSync(join(location, 'optimus-plugin-shout.yaml'), 'utf8')).toBe(SPEC);
  });

  it('prints the artifact, its sha256 and the plugins.list entry; --url makes the url absolute', () => {
    const dir = tempDir({ 'plugin.yaml': SPEC });
    const digest = sha(Buffer.from(SPEC));
    const plain = runOptimus(['plugin', 'pack', '.'], { cwd: dir });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(
      `✓ packed dist/shout-1.4.0.yaml (${Buffer.byteLength(SPEC)} B)\n  sha256 ${digest}\n`,
    );
    expect(plain.stdout).toContain(
      'add to optimus.yaml (plugins.list), after uploading it to an http, gcs or s3 location:',
    );
    expect(plain.stdout).toContain(
      `  - {name: shout, provider: <your provider>, url: shout-1.4.0.yaml, sha256: ${digest}}\n`,
    );
    expect(plain.stdout).toMatch(/relative to the provider/);

    const withUrl = runOptimus(['plugin', 'pack', '.', '--url', 'https://plugins.acme.test/optimus/'], {
      cwd: dir,
    });
    expect(withUrl.code).toBe(0);
    expect(withUrl.stdout).toContain(
      `  - {name: shout, url: https://plugins.acme.test/optimus/shout-1.4.0.yaml, sha256: ${digest}}\n`,
    );
    expect(withUrl.stdout).not.toMatch(/your provider/);
  });

  it('writes nothing for an invalid spec and exits 1 naming the file and line', () => {
    const bad = SPEC.replace('{name: GREETING, default: hi}', '{name: 9GREETING}');
    const dir = tempDir({ 'plugin.yaml': bad });
    const r = runOptimus(['plugin', 'pack'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^plugin\.yaml:11:\d+ configs\[0\]\.name error /m);
    expect(r.stderr).toContain('✗ plugin.yaml: 1 error: nothing packed');
    expect(existsSync(join(dir, 'dist'))).toBe(false);

    const j = runOptimus(['plugin', 'pack', '--json', '--out', 'elsewhere'], { cwd: dir });
    expect(j.code).toBe(1);
    expect(j.json()).toMatchObject({
      ok: false,
      file: 'plugin.yaml',
      problems: [{ severity: 'error', file: 'plugin.yaml', line: 11, path: 'configs[0].name' }],
    });
    expect(existsSync(join(dir, 'elsewhere'))).toBe(false);
  });

  it('refuses a --url the installer cannot read, or one holding credentials, as bad usage', () => {
    const dir = tempDir({ 'plugin.yaml': SPEC });
    const ftp = runOptimus(['plugin', 'pack', '--url', 'ftp://host/x'], { cwd: dir });
    expect(ftp.code).toBe(2);
    expect(ftp.stderr).toMatch(/ftp:\/\//);
    const cred = runOptimus(['plugin', 'pack', '--url', 'https://me:s3cret@host/x/'], { cwd: dir });
    expect(cred.code).toBe(2);
    expect(cred.stderr).not.toContain('s3cret');
    expect(existsSync(join(dir, 'dist'))).toBe(false);
  });
});

describe('optimus plugin pack: binary', () => {
  it('builds, packs one 0755 executable into a tar.gz that installs with its sha256, and answers a handshake', async () => {
    const dir = binaryProject();
    const r = runOptimus(['plugin', 'pack', dir, '--json']);
    expect(r.code).toBe(0);
    const j = r.json();
    const file = join(dir, 'dist', 'packed-0.2.0.tar.gz');
    expect(j).toMatchObject({
      ok: true,
      kind: 'binary',
      name: 'packed',
      version: '0.2.0',
      file,
      sha256: sha(readFileSync(file)),
      bytes: readFileSync(file).length,
      entry: { name: 'packed', provider: '<your provider>', url: 'packed-0.2.0.tar.gz', sha256: j.sha256 },
      build: { executable: join(dir, 'dist', 'packed'), bytes: expect.any(Number), ms: expect.any(Number) },
    });

    const entries = tarEntries(readFileSync(file));
    expect(entries.map((e) => [e.path, e.type, e.mode])).toEqual([['packed', 'File', 0o755]]);
    expect(entries[0]!.data.equals(readFileSync(join(dir, 'dist', 'packed')))).toBe(true);

    const { report, location } = await install({ ...j.entry, provider: 'disk' }, join(dir, 'dist'));
    expect(report.results.map((x) => [x.name, x.status, x.kind, x.version, x.sha256])).toEqual([
      ['packed', 'installed', 'binary', '0.2.0', j.sha256],
    ]);
    const hs = await handshake(join(location, 'packed'), { label: 'packed', timeoutMs: 10_000 });
    expect(hs.plugin.name).toBe('packed');
  });

  it('gives the same bytes for the same executable: mtime, owner and build time do not matter', () => {
    const dir = binaryProject('same');
    const first = runOptimus(['plugin', 'pack', dir, '--json']).json();
    expect(first.ok).toBe(true);
    // A rebuild from the same source, then the executable's mtime moved: still the same artifact.
    const second = runOptimus(['plugin', 'pack', dir, '--json']).json();
    utimesSync(join(dir, 'dist', 'same'), new Date('2031-05-05T05:05:05Z'), new Date('2031-05-05T05:05:05Z'));
    const third = runOptimus(['plugin', 'pack', dir, '--json', '--no-build']).json();
    expect(third.build).toBeUndefined();
    expect(new Set([first.sha256, second.sha256, third.sha256]).size).toBe(1);

    const [e] = tarEntries(readFileSync(join(dir, 'dist', 'same-0.2.0.tar.gz')));
    expect([e!.uid, e!.gid, e!.uname ?? '', e!.gname ?? '']).toEqual([0, 0, '', '']);
    expect(e!.mtime).toBe(Date.UTC(2000, 0, 1));
  });

  it('--url with a path gives an entry that installs as it is, with no provider', async () => {
    const dir = binaryProject('bypath');
    const shelf = tempDir();
    const j = runOptimus(['plugin', 'pack', dir, '--out', shelf, '--url', `${shelf}/`, '--json']).json();
    expect(j.entry).toEqual({ name: 'bypath', url: join(shelf, 'bypath-0.2.0.tar.gz'), sha256: j.sha256 });
    expect(readdirSync(shelf).sort()).toEqual(['bypath-0.2.0.tar.gz', 'index.yaml']);
    const { report } = await install(j.entry, shelf);
    expect(report.results[0]).toMatchObject({ name: 'bypath', status: 'installed', sha256: j.sha256 });
  });

  it('--no-build without a built executable says to build it, and writes nothing', () => {
    const dir = binaryProject('unbuilt');
    const r = runOptimus(['plugin', 'pack', dir, '--no-build']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/dist\/unbuilt does not exist/);
    expect(r.stderr).toMatch(/optimus plugin build/);
    expect(existsSync(join(dir, 'dist'))).toBe(false);
  });

  it('stops at a compile error with its location, and writes no artifact', () => {
    const dir = binaryProject('nocompile');
    writeFileSync(join(dir, 'src', 'main.ts'), 'const = 1;\n');
    const r = runOptimus(['plugin', 'pack', '.', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.json().error.code).toBe('PLUGIN_BUILD_FAILED');
    expect(r.json().error.message).toContain('src/main.ts:1:7');
    expect(existsSync(join(dir, 'dist'))).toBe(false);
  });
});

describe('index.yaml', () => {
  it('keeps other entries and comments, and replaces an entry of the same name and version', () => {
    // An index already there (another plugin, a comment): the packed entry goes beside it.
    const dir = tempDir({
      'plugin.yaml': SPEC,
      'dist/index.yaml':
        '# our plugins\nplugins:\n  - {name: other, url: other-1.0.0.tar.gz, version: 1.0.0}\n',
    });
    const out = join(dir, 'dist');
    const index = join(out, 'index.yaml');
    expect(runOptimus(['plugin', 'pack', dir]).code).toBe(0);
    // A new version is added; the same version packed again replaces its entry.
    writeFileSync(join(dir, 'plugin.yaml'), SPEC.replace('"1.4.0"', '"1.5.0"'));
    expect(runOptimus(['plugin', 'pack', dir]).code).toBe(0);
    writeFileSync(join(dir, 'plugin.yaml'), `${SPEC.replace('"1.4.0"', '"1.5.0"')}# changed\n`);
    expect(runOptimus(['plugin', 'pack', dir]).code).toBe(0);

    const text = readFileSync(index, 'utf8');
    expect(text.startsWith('# our plugins\n')).toBe(true);
    const offered = parseIndex(text, index);
    expect(offered.map((a) => [a.name, a.version, a.ref])).toEqual([
      ['other', '1.0.0', 'other-1.0.0.tar.gz'],
      ['shout', '1.4.0', 'shout-1.4.0.yaml'],
      ['shout', '1.5.0', 'shout-1.5.0.yaml'],
    ]);
    const latest = offered[2]!;
    expect(latest.sha256).toBe(sha(readFileSync(join(out, 'shout-1.5.0.yaml'))));
    expect(latest.size).toBe(readFileSync(join(out, 'shout-1.5.0.yaml')).length);
    expect(latest.description).toBe('Prints a greeting');
  });

  it('quotes a version that would read as a number, so the index keeps it a string', () => {
    const dir = tempDir();
    const text = indexWith(join(dir, 'index.yaml'), {
      name: 'p',
      url: 'p-1.0.yaml',
      version: '1.0',
      sha256: '0'.repeat(64),
      size: 3,
    });
    expect(parseIndex(text, 'index.yaml')).toEqual([
      { ref: 'p-1.0.yaml', name: 'p', version: '1.0', sha256: '0'.repeat(64), size: 3 },
    ]);
  });

  it('refuses to overwrite an index.yaml it cannot read, and writes no artifact', () => {
    const dir = tempDir({ 'plugin.yaml': SPEC, 'dist/index.yaml': 'plugins: {not: a list}\n' });
    const r = runOptimus(['plugin', 'pack'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('dist/index.yaml: "plugins" is not a list');
    expect(readdirSync(join(dir, 'dist'))).toEqual(['index.yaml']);
    expect(readFileSync(join(dir, 'dist', 'index.yaml'), 'utf8')).toBe('plugins: {not: a list}\n');
  });
});

describe('pieces', () => {
  it('tarGzOne: one entry, same bytes for the same input, different for different input', () => {
    const a = tarGzOne('x', Buffer.from('#!/bin/sh\necho a\n'));
    expect(Buffer.from(tarGzOne('x', Buffer.from('#!/bin/sh\necho a\n'))).equals(Buffer.from(a))).toBe(true);
    expect(sha(tarGzOne('x', Buffer.from('#!/bin/sh\necho b\n')))).not.toBe(sha(a));
    // No timestamp in the gzip header.
    expect(Buffer.from(a).readUInt32LE(4)).toBe(0);
    const long = 'n'.repeat(120);
    expect(tarEntries(tarGzOne(long, Buffer.from('1'))).map((e) => e.path)).toEqual([long]);
  });

  it('joinUrl: one slash between the base and the file name', () => {
    expect(joinUrl('https://h/p/', 'a.tgz')).toBe('https://h/p/a.tgz');
    expect(joinUrl('gs://bucket/prefix', 'a.tgz')).toBe('gs://bucket/prefix/a.tgz');
    expect(joinUrl('s3://bucket//', 'a.tgz')).toBe('s3://bucket/a.tgz');
    expect(joinUrl('shared/plugins', 'a.tgz')).toBe('shared/plugins/a.tgz');
  });
});
