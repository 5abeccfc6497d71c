import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { ArtifactSink, detectFormat, extractArchive } from '../../src/plugins/install/archive.js';
import { loadPluginsConfig } from '../../src/plugins/install/config.js';
import { installPlugins } from '../../src/plugins/install/installer.js';
import {
  binaryPlugin,
  specYaml,
  type TarEntry,
  tarGz,
  tempDir,
  writeConfig,
  type ZipEntry,
  zipFile,
} from './helpers.js';

const limits = { maxUnpackedBytes: 1024 * 1024, maxEntries: 50 };

async function extractTar(entries: TarEntry[]) {
  const dir = tempDir();
  const file = join(dir, 'a.tgz');
  writeFileSync(file, tarGz(entries));
  const out = join(dir, 'out');
  return { out, run: () => extractArchive(file, 'tar.gz', out, 'a.tgz', limits) };
}

async function extractZip(entries: ZipEntry[]) {
  const dir = tempDir();
  const file = join(dir, 'a.zip');
  writeFileSync(file, zipFile(entries));
  const out = join(dir, 'out');
  return { out, run: () => extractArchive(file, 'zip', out, 'a.zip', limits) };
}

describe('archive extraction', () => {
  it('refuses a tar entry that climbs out with ..', async () => {
    const { run } = await extractTar([{ path: '../evil', data: 'x' }]);
    await expect(run()).rejects.toMatchObject({
      code: 'PLUGIN_ARCHIVE_UNSAFE',
      message: expect.stringContaining('../evil'),
    });
  });

  it('refuses a tar entry with an absolute path', async () => {
    const { run } = await extractTar([{ path: '/etc/evil', data: 'x' }]);
    await expect(run()).rejects.toMatchObject({ code: 'PLUGIN_ARCHIVE_UNSAFE' });
  });

  it('refuses a symlink pointing outside the archive, and writes nothing through it', async () => {
    const { out, run } = await extractTar([
      { path: 'link', type: 'symlink', linkpath: '../../outside' },
      { path: 'link/payload', data: 'x' },
    ]);
    await expect(run()).rejects.toMatchObject({
      code: 'PLUGIN_ARCHIVE_UNSAFE',
      message: expect.stringContaining('points outside'),
    });
    expect(existsSync(join(out, '..', '..', 'outside'))).toBe(false);
  });

  it('refuses an absolute symlink and a hard link outside', async () => {
    const abs = await extractTar([{ path: 'l', type: 'symlink', linkpath: '/etc/passwd' }]);
    await expect(abs.run()).rejects.toMatchObject({ code: 'PLUGIN_ARCHIVE_UNSAFE' });
    const hard = await extractTar([{ path: 'h', type: 'hardlink', linkpath: '../x' }]);
    await expect(hard.run()).rejects.toMatchObject({ code: 'PLUGIN_ARCHIVE_UNSAFE' });
  });

  it('accepts a symlink that stays inside the archive', async () => {
    const { out, run } = await extractTar([
      { path: 'bin/real', data: 'x' },
      { path: 'bin/alias', type: 'symlink', linkpath: 'real' },
    ]);
    await run();
    expect(readdirSync(join(out, 'bin')).sort()).toEqual(['alias', 'real']);
  });

  it('refuses device files and FIFOs', async () => {
    const dev = await extractTar([{ path: 'dev', type: 'chardev' }]);
    await expect(dev.run()).rejects.toMatchObject({
      code: 'PLUGIN_ARCHIVE_UNSAFE',
      message: expect.stringContaining('device'),
    });
    const fifo = await extractTar([{ path: 'pipe', type: 'fifo' }]);
    await expect(fifo.run()).rejects.toMatchObject({ code: 'PLUGIN_ARCHIVE_UNSAFE' });
  });

  it('stops a tar bomb at the maximum unpacked size', async () => {
    const { run } = await extractTar([{ path: 'zeros', data: Buffer.alloc(2 * 1024 * 1024) }]);
    await expect(run()).rejects.toMatchObject({ code: 'PLUGIN_ARCHIVE_TOO_LARGE' });
  });

  it('stops an archive with too many entries', async () => {
    const { run } = await extractTar(Array.from({ length: 60 }, (_, i) => ({ path: `f${i}`, data: 'x' })));
    await expect(run()).rejects.toMatchObject({
      code: 'PLUGIN_ARCHIVE_TOO_LARGE',
      message: expect.stringContaining('entries'),
    });
  });

  it('refuses zip entries with .. or an absolute path', async () => {
    const up = await extractZip([{ path: '../evil', data: 'x' }]);
    await expect(up.run()).rejects.toMatchObject({ code: 'PLUGIN_ARCHIVE_UNSAFE' });
    const abs = await extractZip([{ path: '/evil', data: 'x' }]);
    await expect(abs.run()).rejects.toMatchObject({ code: 'PLUGIN_ARCHIVE_UNSAFE' });
  });

  it('refuses zip symlinks', async () => {
    const { run } = await extractZip([{ path: 'l', data: '/etc/passwd', mode: 0o120777 }]);
    await expect(run()).rejects.toMatchObject({
      code: 'PLUGIN_ARCHIVE_UNSAFE',
      message: expect.stringContaining('symbolic link'),
    });
  });

  it('stops a zip bomb at the maximum unpacked size and entry count', async () => {
    const big = await extractZip([{ path: 'a', data: Buffer.alloc(2 * 1024 * 1024) }]);
    await expect(big.run()).rejects.toMatchObject({ code: 'PLUGIN_ARCHIVE_TOO_LARGE' });
    const many = await extractZip(Array.from({ length: 60 }, (_, i) => ({ path: `f${i}`, data: 'x' })));
    await expect(many.run()).rejects.toMatchObject({ code: 'PLUGIN_ARCHIVE_TOO_LARGE' });
  });

  it('tells artifacts apart by their bytes', async () => {
    const dir = tempDir();
    const cases: [string, Buffer | string, string][] = [
      ['a.bin', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), 'executable'],
      ['b.bin', Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]), 'executable'],
      ['c.exe', Buffer.from('MZ\x90\x00'), 'executable'],
      ['d', '#!/bin/sh\n', 'executable'],
      ['e.tgz', tarGz([{ path: 'x', data: 'x' }]), 'tar.gz'],
      ['f.zip', zipFile([{ path: 'x', data: 'x' }]), 'zip'],
      ['g.yaml', specYaml('g'), 'yaml'],
    ];
    for (const [name, data, kind] of cases) {
      writeFileSync(join(dir, name), data);
      expect(await detectFormat(join(dir, name), name)).toBe(kind);
    }
    writeFileSync(join(dir, 'h'), Buffer.from([0, 1, 2, 3]));
    await expect(detectFormat(join(dir, 'h'), 'h')).rejects.toMatchObject({
      code: 'PLUGIN_ARTIFACT_UNKNOWN',
    });
  });
});

describe('archive contents', () => {
  async function installArchive(body: Buffer) {
    const dir = tempDir();
    writeFileSync(join(dir, 'artifact.tgz'), body);
    const { section } = loadPluginsConfig(writeConfig(dir, 'list:\n  - {name: p, url: artifact.tgz}'));
    const report = await installPlugins(section!);
    return { dir, result: report.results[0]! };
  }

  it('refuses an archive with two executables and lists them', async () => {
    const { result, dir } = await installArchive(
      tarGz([
        { path: 'one', data: binaryPlugin('p'), mode: 0o755 },
        { path: 'two', data: binaryPlugin('p'), mode: 0o755 },
      ]),
    );
    expect(result.error).toMatchObject({
      code: 'PLUGIN_ARCHIVE_CONTENTS',
      message: expect.stringContaining('found 2 (one, two)'),
    });
    expect(readdirSync(join(dir, '.plugins')).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('refuses an archive without an executable and lists what it holds', async () => {
    const { result } = await installArchive(
      tarGz([
        { path: 'spec.yaml', data: specYaml('p') },
        { path: 'README', data: 'hi' },
      ]),
    );
    expect(result.error).toMatchObject({
      code: 'PLUGIN_ARCHIVE_CONTENTS',
      message: expect.stringContaining('README, spec.yaml'),
    });
  });

  it('refuses an archive with two specs', async () => {
    const { result } = await installArchive(
      tarGz([
        { path: 'p', data: binaryPlugin('p'), mode: 0o755 },
        { path: 'a.yaml', data: specYaml('p') },
        { path: 'b.yaml', data: specYaml('p') },
      ]),
    );
    expect(result.error).toMatchObject({
      code: 'PLUGIN_ARCHIVE_CONTENTS',
      message: expect.stringContaining('a.yaml, b.yaml'),
    });
  });

  const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

  async function streamInto(body: Buffer) {
    const dir = tempDir();
    const sink = new ArtifactSink(join(dir, 'artifact'), join(dir, 'x'), 'a.tgz', limits);
    await pipeline(Readable.from([body]), sink);
    return { sink, out: join(dir, 'x') };
  }

  it('hashes the files of a streamed .tar.gz as they are written', async () => {
    const exe = binaryPlugin('p', '1.0.0', { padding: Buffer.alloc(300_000, 7) });
    const { sink, out } = await streamInto(
      tarGz([
        { path: 'd', type: 'dir' },
        { path: './d/p', data: exe, mode: 0o755 },
        { path: 'spec.yaml', data: specYaml('p') },
      ]),
    );
    expect(sink.streamed).toBe('tar');
    expect(Object.fromEntries(sink.fileHashes ?? [])).toEqual({
      'd/p': sha256(readFileSync(join(out, 'd/p'))),
      'spec.yaml': sha256(readFileSync(join(out, 'spec.yaml'))),
    });
    expect(sink.fileHashes?.get('d/p')).toBe(sha256(exe));
  });

  it('gives no streamed hashes when an archive holds links or a path twice', async () => {
    const linked = await streamInto(
      tarGz([
        { path: 'a', data: 'one' },
        { path: 'h', type: 'hardlink', linkpath: 'a' },
      ]),
    );
    expect(linked.sink.fileHashes).toBeUndefined();
    const twice = await streamInto(
      tarGz([
        { path: 'a', data: 'one' },
        { path: 'a', data: 'two' },
      ]),
    );
    expect(twice.sink.fileHashes).toBeUndefined();
    const cased = await streamInto(
      tarGz([
        { path: 'P', data: 'one' },
        { path: 'p', data: 'two' },
      ]),
    );
    expect(cased.sink.fileHashes).toBeUndefined();
  });

  it('locks the hash of the installed executable when an archive writes it twice', async () => {
    const { dir, result } = await installArchive(
      tarGz([
        { path: 'p', data: binaryPlugin('p', '0.0.1'), mode: 0o755 },
        { path: 'p', data: binaryPlugin('p', '2.0.0'), mode: 0o755 },
      ]),
    );
    expect(result.status).toBe('installed');
    const lock = readFileSync(join(dir, 'plugins.lock.yaml'), 'utf8');
    expect(lock).toContain(sha256(readFileSync(join(dir, '.plugins', 'p'))));
  });

  it('refuses a hostile archive while it downloads and cleans its temp files', async () => {
    const { dir, result } = await installArchive(tarGz([{ path: '../x', data: 'x' }]));
    expect(result.error).toMatchObject({
      code: 'PLUGIN_ARCHIVE_UNSAFE',
      message: expect.stringContaining('"../x"'),
    });
    expect(existsSync(join(dir, 'x'))).toBe(false);
    expect(readdirSync(join(dir, '.plugins')).filter((n) => n.startsWith('.optimus-tmp'))).toEqual([]);
  });
});
