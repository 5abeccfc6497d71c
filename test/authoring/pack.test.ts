/**
 * `optimus plugin pack` and authoring/pack.ts: yaml and binary artifacts that install through the
 * real installer (a file provider, the printed sha256 pinned), reproducible bytes, the http index,
 * and nothing written for an invalid spec.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { describe, expect, it } from 'vitest';
import { checkBaseUrl, indexWith, joinUrl, tarGzOne } from '../../src/authoring/pack.js';
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
    // Other bytes under a version already packed: refused, unless --force.
    writeFileSync(join(dir, 'plugin.yaml'), `${SPEC.replace('"1.4.0"', '"1.5.0"')}# changed\n`);
    expect(runOptimus(['plugin', 'pack', dir]).code).toBe(1);
    expect(runOptimus(['plugin', 'pack', dir, '--force']).code).toBe(0);

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

describe('what pack refuses, before anything is written', () => {
  it('a version packed before with other bytes: PLUGIN_ARTIFACT_EXISTS naming both sha256; the same bytes again are a no-op', () => {
    const dir = tempDir({ 'plugin.yaml': SPEC });
    const first = runOptimus(['plugin', 'pack', '--json'], { cwd: dir });
    expect(first.code).toBe(0);
    const artifact = join(dir, 'dist', 'shout-1.4.0.yaml');
    const index = readFileSync(join(dir, 'dist', 'index.yaml'), 'utf8');

    const again = runOptimus(['plugin', 'pack', '--json'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.json()).toMatchObject({ ok: true, sha256: first.json().sha256, previous: 'same' });
    expect(readFileSync(join(dir, 'dist', 'index.yaml'), 'utf8')).toBe(index);

    const changed = `${SPEC}# a fix\n`;
    writeFileSync(join(dir, 'plugin.yaml'), changed);
    const refused = runOptimus(['plugin', 'pack'], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `error: dist/shout-1.4.0.yaml already holds shout 1.4.0 with sha256 ${sha(Buffer.from(SPEC))}; this pack's bytes have sha256 ${sha(Buffer.from(changed))}\n` +
        "hint: a released version's bytes must not change (teams pin its sha256): bump plugin_versions.default.tag in plugin.yaml, or pass --force to replace it\n",
    );
    expect(readFileSync(artifact, 'utf8')).toBe(SPEC);
    expect(readFileSync(join(dir, 'dist', 'index.yaml'), 'utf8')).toBe(index);

    // The index alone remembers the version (the artifact was cleaned away): still refused.
    writeFileSync(artifact, '');
    const fresh = tempDir({ 'plugin.yaml': changed, 'out/index.yaml': index });
    const viaIndex = runOptimus(['plugin', 'pack', '--out', 'out', '--json'], { cwd: fresh });
    expect(viaIndex.code).toBe(1);
    expect(viaIndex.json().error).toMatchObject({ code: 'PLUGIN_ARTIFACT_EXISTS' });
    expect(viaIndex.json().error.message).toContain(sha(Buffer.from(SPEC)));
    expect(readdirSync(join(fresh, 'out'))).toEqual(['index.yaml']);

    const forced = runOptimus(['plugin', 'pack', '--force', '--json'], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(forced.json()).toMatchObject({ previous: 'replaced', sha256: sha(Buffer.from(changed)) });
    expect(readFileSync(artifact, 'utf8')).toBe(changed);
    expect(parseIndex(readFileSync(join(dir, 'dist', 'index.yaml'), 'utf8'), 'index.yaml')).toMatchObject([
      { name: 'shout', version: '1.4.0', sha256: sha(Buffer.from(changed)) },
    ]);
  });

  it('an index.yaml that is some other YAML file is left alone; an empty or comments-only one is used', () => {
    const other = 'name: not an index\nsteps: [a, b]\n';
    const dir = tempDir({ 'plugin.yaml': SPEC, 'dist/index.yaml': other });
    const r = runOptimus(['plugin', 'pack', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({
      code: 'PLUGIN_INDEX_INVALID',
      message:
        'dist/index.yaml: has no "plugins" list, so it is not an index pack writes (it was left as it is)',
    });
    expect(readFileSync(join(dir, 'dist', 'index.yaml'), 'utf8')).toBe(other);
    expect(readdirSync(join(dir, 'dist'))).toEqual(['index.yaml']);

    for (const kept of ['', '# our plugins\n', 'plugins:\n']) {
      const d = tempDir({ 'plugin.yaml': SPEC, 'dist/index.yaml': kept });
      expect(runOptimus(['plugin', 'pack'], { cwd: d }).code).toBe(0);
      const text = readFileSync(join(d, 'dist', 'index.yaml'), 'utf8');
      expect(parseIndex(text, 'index.yaml').map((a) => a.name)).toEqual(['shout']);
      if (kept.startsWith('#')) expect(text.startsWith(kept)).toBe(true);
    }
  });

  it('--out that is a file, is under a file, or is a link to nothing; an artifact path or index.yaml that is a folder', () => {
    const dir = tempDir({
      'plugin.yaml': SPEC,
      taken: 'x',
      'busy/shout-1.4.0.yaml/keep': '',
      'idx/index.yaml/keep': '',
    });
    symlinkSync('nowhere', join(dir, 'dangling'));
    const cases: [string, number, string, string][] = [
      ['taken', 2, 'PLUGIN_PACK_OUT_INVALID', '--out taken is a file, not a folder'],
      [
        'taken/x',
        2,
        'PLUGIN_PACK_OUT_INVALID',
        '--out taken/x: taken is a file, so no folder can be made under it',
      ],
      [
        'dangling/x',
        2,
        'PLUGIN_PACK_OUT_INVALID',
        '--out dangling/x: dangling is a symbolic link to something that does not exist',
      ],
      [
        'busy',
        2,
        'PLUGIN_PACK_OUT_INVALID',
        'busy/shout-1.4.0.yaml is a folder, and the artifact is written there',
      ],
      ['idx', 1, 'PLUGIN_INDEX_INVALID', 'idx/index.yaml: is a folder, not an index file'],
    ];
    for (const [out, code, errorCode, message] of cases) {
      const r = runOptimus(['plugin', 'pack', '--out', out, '--json'], { cwd: dir });
      expect(r.code, out).toBe(code);
      expect(r.json().error, out).toMatchObject({ code: errorCode, message });
      expect(r.json().error.hint, out).toMatch(/--out/);
      const human = runOptimus(['plugin', 'pack', '--out', out], { cwd: dir });
      expect(human.stderr, out).not.toContain('internal error');
    }
    expect(readFileSync(join(dir, 'taken'), 'utf8')).toBe('x');
    expect(readdirSync(join(dir, 'busy'))).toEqual(['shout-1.4.0.yaml']);
    expect(readdirSync(join(dir, 'idx'))).toEqual(['index.yaml']);
  });

  it('--out where no folder can be made (/proc) fails at once with an error naming --out', () => {
    if (!existsSync('/proc/self')) return; // not Linux: no /proc to try
    const dir = tempDir({ 'plugin.yaml': SPEC });
    const r = runOptimus(['plugin', 'pack', '--out', '/proc/optimus-no/such', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({
      code: 'PLUGIN_PACK_WRITE_FAILED',
      message: '--out /proc/optimus-no/such: the folder /proc/optimus-no cannot be made there (ENOENT)',
    });
  });

  it('missing folders of --out are made', () => {
    const dir = tempDir({ 'plugin.yaml': SPEC });
    expect(runOptimus(['plugin', 'pack', '--out', 'a/b/c'], { cwd: dir }).code).toBe(0);
    expect(readdirSync(join(dir, 'a/b/c')).sort()).toEqual(['index.yaml', 'shout-1.4.0.yaml']);
  });

  it('a name or tag that cannot name a file: the hint says what to change in that field', () => {
    const tag = tempDir({ 'plugin.yaml': SPEC.replace('"1.4.0"', '"1..4"') });
    const t = runOptimus(['plugin', 'pack', '--json'], { cwd: tag });
    expect(t.code).toBe(1);
    expect(t.json().error).toMatchObject({
      code: 'PLUGIN_PACK_NAME_INVALID',
      message: 'plugin.yaml: plugin_versions.default.tag "1..4" cannot name a file: it may not contain ".."',
    });
    expect(t.json().error.hint).toMatch(/^write the tag as a version/);

    const long = 'n'.repeat(101);
    const name = tempDir({ 'plugin.yaml': SPEC.replace('name: shout', `name: ${long}`) });
    const n = runOptimus(['plugin', 'pack', '--json'], { cwd: name });
    expect(n.code).toBe(1);
    expect(n.json().error.message).toBe(
      `plugin.yaml: name "${long}" cannot name a file: it is 101 characters long, at most 100 are allowed`,
    );
    expect(n.json().error.hint).toMatch(/^rename the plugin: .* at most 100 characters/);
    expect(n.json().error.hint).not.toMatch(/0\.1\.0/);
    expect(existsSync(join(tag, 'dist'))).toBe(false);
    expect(existsSync(join(name, 'dist'))).toBe(false);
  });

  it('--url: credentials, schemes and spaces however they are spelt (exit 2, the secret never printed)', () => {
    const dir = tempDir({ 'plugin.yaml': SPEC });
    for (const url of [
      ' https://user:s3cret@host/p/',
      'user:s3cret@host/p',
      'https:/\\u:s3cret@host',
      'user@host/p',
      'gs://u:s3cret@bucket/p',
    ]) {
      const r = runOptimus(['plugin', 'pack', '--url', url], { cwd: dir });
      expect(r.code, url).toBe(2);
      expect(r.stderr, url).not.toContain('s3cret');
      expect(r.stderr, url).toMatch(/^error: --url (holds credentials|has spaces around it)/);
    }
    for (const url of ['javascript:alert(1)', 'https://host/a b/', 'https://host/p\t', 'https:host/p']) {
      const r = runOptimus(['plugin', 'pack', '--url', url], { cwd: dir });
      expect(r.code, url).toBe(2);
      expect(r.stderr, url).toMatch(/^error: --url /);
    }
    expect(existsSync(join(dir, 'dist'))).toBe(false);
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

  it('checkBaseUrl: paths and the schemes plugin install reads pass as they are', () => {
    for (const ok of [
      'https://plugins.acme.test/optimus/',
      'HTTP://host:8080/p',
      'gs://bucket/prefix',
      'gcs://bucket',
      's3://bucket/a/b/',
      'file:///srv/plugins',
      'shared/plugins',
      '/abs/plugins',
      'https://host/a%20b/',
    ])
      expect(checkBaseUrl(ok)).toBe(ok);
    const why = (u: string) => {
      try {
        checkBaseUrl(u);
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(why('ftp://host/x')).toBe('--url uses the scheme ftp://, which plugin install cannot read');
    expect(why('javascript:alert(1)')).toBe(
      '--url uses the scheme javascript:, which plugin install cannot read',
    );
    expect(why('https:/\\u:p@host')).toMatch(/credentials/);
    expect(why('https://host/p?x=1')).toBe('--url holds a query or fragment');
    expect(why('https://host/a b/')).toBe('--url holds a space or control character');
    expect(why('https://host/p ')).toBe('--url has spaces around it');
  });

  it('joinUrl: one slash between the base and the file name', () => {
    expect(joinUrl('https://h/p/', 'a.tgz')).toBe('https://h/p/a.tgz');
    expect(joinUrl('gs://bucket/prefix', 'a.tgz')).toBe('gs://bucket/prefix/a.tgz');
    expect(joinUrl('s3://bucket//', 'a.tgz')).toBe('s3://bucket/a.tgz');
    expect(joinUrl('shared/plugins', 'a.tgz')).toBe('shared/plugins/a.tgz');
  });
});
