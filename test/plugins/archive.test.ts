import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  ArtifactSink,
  createEntryGuard,
  detectFormat,
  extractArchive,
  isExecutableHead,
  listFiles,
  readHead,
} from '../../src/plugins/install/archive.js';
import { loadPluginsConfig } from '../../src/plugins/install/config.js';
import { installPlugins } from '../../src/plugins/install/installer.js';
import {
  binaryPlugin,
  specYaml,
  type TarEntry,
  tarball,
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
    // The install location did not exist before the failed install: it does not exist after it.
    expect(existsSync(join(dir, '.plugins'))).toBe(false);
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

  it('gives no streamed hashes when an archive holds links (their files have no bytes of their own)', async () => {
    const linked = await streamInto(
      tarGz([
        { path: 'a', data: 'one' },
        { path: 'h', type: 'hardlink', linkpath: 'a' },
      ]),
    );
    expect(linked.sink.fileHashes).toBeUndefined();
    expect(readFileSync(join(linked.out, 'h'), 'utf8')).toBe('one');
  });

  it('refuses an archive that writes the executable twice, and installs nothing', async () => {
    const { dir, result } = await installArchive(
      tarGz([
        { path: 'p', data: binaryPlugin('p', '0.0.1'), mode: 0o755 },
        { path: 'p', data: binaryPlugin('p', '2.0.0'), mode: 0o755 },
      ]),
    );
    expect(result.error).toMatchObject({
      code: 'PLUGIN_ARCHIVE_DUPLICATE',
      message: expect.stringContaining('holds "p" more than once'),
    });
    expect(existsSync(join(dir, '.plugins', 'p'))).toBe(false);
    expect(existsSync(join(dir, 'plugins.lock.yaml'))).toBe(false);
  });

  it('refuses a hostile archive while it downloads and cleans its temp files', async () => {
    const { dir, result } = await installArchive(tarGz([{ path: '../x', data: 'x' }]));
    expect(result.error).toMatchObject({
      code: 'PLUGIN_ARCHIVE_UNSAFE',
      message: expect.stringContaining('"../x"'),
    });
    expect(existsSync(join(dir, 'x'))).toBe(false);
    expect(existsSync(join(dir, '.plugins'))).toBe(false);
  });
});

/**
 * Hostile archives, each refused the same way whether it is unpacked from a file (extractArchive)
 * or while it downloads (ArtifactSink). A guard that forgets to stop the extraction hangs it: the
 * per-test timeout turns that into a failure in seconds.
 */
describe('hostile archives', { timeout: 5_000 }, () => {
  const small = { maxUnpackedBytes: 10, maxEntries: 3 };
  const tarCases: [string, TarEntry[], string, string, typeof small?][] = [
    [
      'a symlink that climbs out from its own folder',
      [
        { path: 'a/', type: 'dir' },
        { path: 'a/link', type: 'symlink', linkpath: '../../outside' },
      ],
      'PLUGIN_ARCHIVE_UNSAFE',
      'link "a/link" points outside the archive (../../outside)',
    ],
    [
      'a file written through a symbolic link',
      [
        { path: 'sub/', type: 'dir' },
        { path: 'd', type: 'symlink', linkpath: 'sub' },
        { path: 'd/payload', data: 'x' },
      ],
      'PLUGIN_ARCHIVE_UNSAFE',
      'entry "d/payload" is written through the symbolic link "d"',
    ],
    [
      'a link that climbs out through another link',
      [
        { path: 'a', type: 'symlink', linkpath: '.' },
        { path: 'b', type: 'symlink', linkpath: 'a/..' },
      ],
      'PLUGIN_ARCHIVE_UNSAFE',
      'link "b" points through another link (a/..)',
    ],
    [
      'a hard link to a file that is not in the archive',
      [{ path: 'h', type: 'hardlink', linkpath: 'etc-passwd' }],
      'PLUGIN_ARCHIVE_UNSAFE',
      'link "h" points outside the archive or to no file before it (etc-passwd)',
    ],
    [
      'an entry of an unsupported type',
      [{ path: 'weird', type: 'dumpdir' }],
      'PLUGIN_ARCHIVE_UNSAFE',
      'a.tgz: entry "weird" has an unsupported type (GNUDumpDir)',
    ],
    [
      'two entries of one name',
      [
        { path: 'p', data: 'reviewed' },
        { path: 'p', data: 'runs' },
      ],
      'PLUGIN_ARCHIVE_DUPLICATE',
      'a.tgz: holds "p" more than once',
    ],
    [
      'two names that differ by a ./ prefix',
      [
        { path: 'p', data: 'reviewed' },
        { path: './p', data: 'runs' },
      ],
      'PLUGIN_ARCHIVE_DUPLICATE',
      'holds "p" more than once',
    ],
    [
      'a directory listed twice, with and without a trailing slash',
      [
        { path: 'd/', type: 'dir' },
        { path: 'd', type: 'dir' },
      ],
      'PLUGIN_ARCHIVE_DUPLICATE',
      'holds "d" more than once',
    ],
    [
      'two names that differ only in case',
      [
        { path: 'Plugin', data: 'reviewed' },
        { path: 'plugin', data: 'runs' },
      ],
      'PLUGIN_ARCHIVE_DUPLICATE',
      'holds "plugin" more than once',
    ],
    [
      'two names that differ only in Unicode normalisation',
      [
        { path: 'caf\u00e9', data: 'reviewed' },
        { path: 'cafe\u0301', data: 'runs' },
      ],
      'PLUGIN_ARCHIVE_DUPLICATE',
      'more than once',
    ],
    [
      'files that are small one by one but too large in total',
      [
        { path: 'a', data: '123456' },
        { path: 'b', data: '123456' },
      ],
      'PLUGIN_ARCHIVE_TOO_LARGE',
      'a.tgz: unpacks to more than 10 bytes',
      small,
    ],
    [
      'one entry more than the maximum',
      [
        { path: 'a', data: '1' },
        { path: 'b', data: '2' },
        { path: 'c', data: '3' },
        { path: 'd', data: '4' },
      ],
      'PLUGIN_ARCHIVE_TOO_LARGE',
      'a.tgz: holds more than 3 entries',
      small,
    ],
  ];

  for (const [what, entries, code, message, lim] of tarCases) {
    it(`refuses a .tar.gz with ${what}, from a file and while downloading`, async () => {
      const dir = tempDir();
      const file = join(dir, 'a.tgz');
      writeFileSync(file, tarGz(entries));
      await expect(
        extractArchive(file, 'tar.gz', join(dir, 'out'), 'a.tgz', lim ?? limits),
      ).rejects.toMatchObject({
        code,
        message: expect.stringContaining(message),
      });
      const sink = new ArtifactSink(join(dir, 'artifact'), join(dir, 'x'), 'a.tgz', lim ?? limits);
      await expect(pipeline(Readable.from([readFileSync(file)]), sink)).rejects.toMatchObject({
        code,
        message: expect.stringContaining(message),
      });
      expect(existsSync(join(dir, '..', 'outside'))).toBe(false);
    });
  }

  it('accepts what stays inside: a nested link one level up, a hard link, and exactly the limits', async () => {
    const { out, run } = await extractTar([
      { path: 'a/', type: 'dir' },
      { path: 'x', data: '1' },
      { path: 'a/link', type: 'symlink', linkpath: '../x' },
      { path: 'h', type: 'hardlink', linkpath: 'x' },
    ]);
    await run();
    expect(readFileSync(join(out, 'a/link'), 'utf8')).toBe('1');
    expect(readFileSync(join(out, 'h'), 'utf8')).toBe('1');
    const dir = tempDir();
    const file = join(dir, 'exact.tgz');
    writeFileSync(
      file,
      tarGz([
        { path: 'a', data: '12345' },
        { path: 'b', data: '12' },
        { path: 'c', data: '345' },
      ]),
    );
    await extractArchive(file, 'tar.gz', join(dir, 'out'), 'exact.tgz', small);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['a', 'b', 'c']);
  });

  const zipCases: [string, ZipEntry[], string, string, typeof small?][] = [
    [
      'two entries of one name',
      [
        { path: 'p', data: 'reviewed' },
        { path: 'p', data: 'runs' },
      ],
      'PLUGIN_ARCHIVE_DUPLICATE',
      'a.zip: holds "p" more than once',
    ],
    [
      'a file and a directory of one name',
      [
        { path: 'd/', mode: 0o40755 },
        { path: 'd', data: 'x' },
      ],
      'PLUGIN_ARCHIVE_DUPLICATE',
      'holds "d" more than once',
    ],
    [
      'two names that differ only in case',
      [
        { path: 'README', data: 'a' },
        { path: 'readme', data: 'b' },
      ],
      'PLUGIN_ARCHIVE_DUPLICATE',
      'holds "readme" more than once',
    ],
    [
      'files that are small one by one but too large in total',
      [
        { path: 'a', data: '123456' },
        { path: 'b', data: '123456' },
      ],
      'PLUGIN_ARCHIVE_TOO_LARGE',
      'a.zip: unpacks to more than 10 bytes',
      small,
    ],
    [
      'a FIFO',
      [{ path: 'pipe', mode: 0o10644 }],
      'PLUGIN_ARCHIVE_UNSAFE',
      'entry "pipe" is a device file, FIFO or socket',
    ],
  ];

  for (const [what, entries, code, message, lim] of zipCases) {
    it(`refuses a .zip with ${what}`, async () => {
      const dir = tempDir();
      const file = join(dir, 'a.zip');
      writeFileSync(file, zipFile(entries));
      await expect(
        extractArchive(file, 'zip', join(dir, 'out'), 'a.zip', lim ?? limits),
      ).rejects.toMatchObject({
        code,
        message: expect.stringContaining(message),
      });
    });
  }

  it('unpacks a .zip of exactly the limits, keeping the executable bit', async () => {
    const dir = tempDir();
    const file = join(dir, 'exact.zip');
    writeFileSync(
      file,
      zipFile([
        { path: 'bin/', mode: 0o40755 },
        { path: 'bin/run', data: '#!/bin/sh\n', mode: 0o100755 },
        { path: 'n', data: '' },
      ]),
    );
    await extractArchive(file, 'zip', join(dir, 'out'), 'exact.zip', small);
    expect(readFileSync(join(dir, 'out/bin/run'), 'utf8')).toBe('#!/bin/sh\n');
    expect(statSync(join(dir, 'out/bin/run')).mode & 0o111).not.toBe(0);
  });

  it('reports a corrupt archive as invalid, naming it', async () => {
    const dir = tempDir();
    const good = tarGz([{ path: 'p', data: Buffer.alloc(4096, 1) }]);
    const file = join(dir, 'cut.tgz');
    writeFileSync(file, good.subarray(0, good.length >> 1));
    await expect(extractArchive(file, 'tar.gz', join(dir, 'out'), 'cut.tgz', limits)).rejects.toMatchObject({
      code: 'PLUGIN_ARCHIVE_INVALID',
      message: expect.stringMatching(/^cut\.tgz: cannot unpack: /),
    });
    writeFileSync(join(dir, 'bad.zip'), Buffer.from('PK\x03\x04 not really a zip'));
    await expect(
      extractArchive(join(dir, 'bad.zip'), 'zip', join(dir, 'out2'), 'bad.zip', limits),
    ).rejects.toMatchObject({
      code: 'PLUGIN_ARCHIVE_INVALID',
      message: expect.stringMatching(/^bad\.zip: /),
    });
  });
});

describe('what an artifact is', () => {
  const heads: [string, Buffer, string][] = [
    ['ELF', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2]), 'executable'],
    ['Mach-O 32-bit', Buffer.from([0xfe, 0xed, 0xfa, 0xce, 0]), 'executable'],
    ['Mach-O 64-bit', Buffer.from([0xfe, 0xed, 0xfa, 0xcf, 0]), 'executable'],
    ['Mach-O 32-bit, swapped', Buffer.from([0xce, 0xfa, 0xed, 0xfe, 0]), 'executable'],
    ['Mach-O 64-bit, swapped', Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 0]), 'executable'],
    ['Mach-O universal', Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0]), 'executable'],
    ['PE', Buffer.from('MZ\0\0'), 'executable'],
    ['a two-byte script', Buffer.from('#!'), 'executable'],
    ['an empty zip', Buffer.from([0x50, 0x4b, 0x05, 0x06, ...Buffer.alloc(18)]), 'zip'],
    ['a plain tar', tarball([{ path: 'x', data: 'x' }]), 'tar'],
    ['YAML', Buffer.from('name: x\n'), 'yaml'],
  ];
  for (const [what, bytes, format] of heads) {
    it(`recognises ${what} by its bytes`, async () => {
      const file = join(tempDir(), 'artifact');
      writeFileSync(file, bytes);
      expect(await detectFormat(file, 'artifact')).toBe(format);
    });
  }

  it('takes an empty file for a spec only when its name says so, and refuses other bytes with the name', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'empty'), '');
    expect(await detectFormat(join(dir, 'empty'), 'x/spec.yml?ref=main')).toBe('yaml');
    await expect(detectFormat(join(dir, 'empty'), 'x/spec.bin')).rejects.toMatchObject({
      code: 'PLUGIN_ARTIFACT_UNKNOWN',
      message:
        'x/spec.bin: not a plugin spec, an executable (ELF, Mach-O, PE or #! script), a .zip or a .tar.gz',
    });
    writeFileSync(join(dir, 'one'), 'M');
    expect(await detectFormat(join(dir, 'one'), 'one')).toBe('yaml');
    writeFileSync(join(dir, 'elf3'), Buffer.from([0x7f, 0x45, 0x4c]));
    await expect(detectFormat(join(dir, 'elf3'), 'elf3')).resolves.toBe('yaml');
    expect(isExecutableHead(Buffer.from([0x7f, 0x45, 0x4c]))).toBe(false);
    expect(isExecutableHead(Buffer.from('#'))).toBe(false);
    expect(isExecutableHead(Buffer.from([0xfe, 0xed, 0xfa, 0xcd]))).toBe(false);
  });

  it('reads only the first bytes of a file', async () => {
    const file = join(tempDir(), 'big');
    writeFileSync(file, Buffer.alloc(2000, 1));
    expect((await readHead(file)).length).toBe(512);
    expect((await readHead(file, 4)).length).toBe(4);
  });
});

describe('unpacking what tools write', () => {
  it('accepts the ./ root entry that `tar -C dir .` writes, and lists the files it unpacked', async () => {
    const { out, run } = await extractTar([
      { path: './', type: 'dir' },
      { path: './bin/', type: 'dir' },
      { path: './bin/run', data: 'x', mode: 0o755 },
      { path: './README', data: 'read me' },
    ]);
    await run();
    expect(await listFiles(out)).toEqual([
      { path: 'bin/run', size: 1 },
      { path: 'README', size: 7 },
    ]);
  });

  it('refuses a root entry that is not a directory', async () => {
    const { run } = await extractTar([{ path: '.', data: 'x' }]);
    await expect(run()).rejects.toMatchObject({
      code: 'PLUGIN_ARCHIVE_UNSAFE',
      message: 'a.tgz: entry "." is not a directory',
    });
  });

  it('reports a file placed under another file as an archive it cannot unpack, without temp paths', async () => {
    const { run } = await extractTar([
      { path: 'a', data: 'x' },
      { path: 'a/b', data: 'y' },
    ]);
    await expect(run()).rejects.toMatchObject({
      code: 'PLUGIN_ARCHIVE_INVALID',
      message: expect.stringMatching(/^a\.tgz: cannot unpack: E[A-Z]+ while writing an entry$/),
      hint: 'check that the artifact is a well-formed .tar.gz or .zip',
    });
  });

  const zipRefused: [string, ZipEntry[], string][] = [
    ['a character device', [{ path: 'c', mode: 0o20644 }], 'entry "c" is a device file, FIFO or socket'],
    ['a block device', [{ path: 'b', mode: 0o60644 }], 'entry "b" is a device file, FIFO or socket'],
    ['a socket', [{ path: 's', mode: 0o140644 }], 'entry "s" is a device file, FIFO or socket'],
    ['a drive letter', [{ path: 'C:/x', data: 'x' }], 'a.zip: '],
    [
      'more entries than allowed, before unpacking any',
      Array.from({ length: 51 }, (_, i) => ({ path: `f${i}`, data: 'x' })),
      'a.zip: holds more than 50 entries',
    ],
  ];
  for (const [what, entries, message] of zipRefused) {
    it(`refuses a .zip with ${what}`, async () => {
      const { out, run } = await extractZip(entries);
      await expect(run()).rejects.toMatchObject({
        code: what.startsWith('more') ? 'PLUGIN_ARCHIVE_TOO_LARGE' : 'PLUGIN_ARCHIVE_UNSAFE',
        message: expect.stringContaining(message),
      });
      expect(readdirSync(out)).toEqual([]);
    });
  }

  it('refuses a tar entry with a backslash, a NUL-free drive letter, or an empty name', async () => {
    for (const path of ['a\\b', 'C:/x', 'c:x']) {
      const { run } = await extractTar([{ path, data: 'x' }]);
      await expect(run()).rejects.toMatchObject({
        code: 'PLUGIN_ARCHIVE_UNSAFE',
        message: `a.tgz: entry "${path}" leaves the archive (absolute path or "..")`,
        hint: 'the archive is refused as a whole; rebuild it with plain relative paths',
      });
    }
  });

  it('unpacks a streamed archive that is not gzip to the artifact file, untouched', async () => {
    const dir = tempDir();
    const sink = new ArtifactSink(join(dir, 'artifact'), join(dir, 'x'), 'a.zip', limits);
    const body = zipFile([{ path: 'p', data: 'x' }]);
    await pipeline(Readable.from([body.subarray(0, 10), body.subarray(10)]), sink);
    expect(sink.streamed).toBe('file');
    expect(sink.fileHashes).toBeUndefined();
    expect(readFileSync(join(dir, 'artifact'))).toEqual(body);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it('reports a corrupt gzip stream while it downloads', async () => {
    const dir = tempDir();
    const sink = new ArtifactSink(join(dir, 'artifact'), join(dir, 'x'), 'a.tgz', limits);
    const bad = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(64, 0xff)]);
    await expect(pipeline(Readable.from([bad]), sink)).rejects.toMatchObject({
      code: 'PLUGIN_ARCHIVE_INVALID',
      message: expect.stringMatching(/^a\.tgz: cannot unpack: /),
    });
  });
});

/**
 * The edges a user meets: which first bytes make an executable or an archive, the exact refusal
 * (code, category, hint) for each kind of hostile entry, and a download that fails or stops.
 */
describe('archive edges a user sees', { timeout: 10_000 }, () => {
  const heads: [string, Buffer, boolean][] = [
    ['a four-byte ELF', Buffer.from([0x7f, 0x45, 0x4c, 0x46]), true],
    ['# without !', Buffer.from('#abc'), false],
    ['! without #', Buffer.from('x!bc'), false],
    ['M without Z', Buffer.from('Mabc'), false],
    ['Z without M', Buffer.from('xZbc'), false],
    ['M alone, two bytes', Buffer.from('Ma'), false],
  ];
  for (const [what, head, exe] of heads) {
    it(`takes ${what} for ${exe ? 'an executable' : 'no executable'}`, () => {
      expect(isExecutableHead(head)).toBe(exe);
    });
  }

  const formats: [string, Buffer, string, string][] = [
    ['0x1f without 0x8b is text, not gzip', Buffer.from([0x1f, 0x41, 0x42]), 'a', 'yaml'],
    ['0x8b without 0x1f is text, not gzip', Buffer.from([0x41, 0x8b, 0x42]), 'a', 'yaml'],
    ['a four-byte zip header', Buffer.from([0x50, 0x4b, 0x03, 0x04]), 'a', 'zip'],
    ['a four-byte empty zip', Buffer.from([0x50, 0x4b, 0x05, 0x06]), 'a', 'zip'],
    [
      'a 262-byte text that only starts a tar header',
      Buffer.concat([Buffer.alloc(257, 0x61), Buffer.from('ustar')]),
      'a',
      'yaml',
    ],
    ['an empty .yaml', Buffer.alloc(0), 'plugins/spec.yaml', 'yaml'],
    ['an empty .YML', Buffer.alloc(0), 'SPEC.YML', 'yaml'],
  ];
  for (const [what, bytes, name, format] of formats) {
    it(`detects ${what}`, async () => {
      const file = join(tempDir(), 'artifact');
      writeFileSync(file, bytes);
      expect(await detectFormat(file, name)).toBe(format);
    });
  }

  it('refuses an empty file whose name only contains .yml, with its category', async () => {
    const file = join(tempDir(), 'artifact');
    writeFileSync(file, '');
    await expect(detectFormat(file, 'spec.yml.bak')).rejects.toMatchObject({
      code: 'PLUGIN_ARTIFACT_UNKNOWN',
      category: 'invalid',
    });
  });

  it('refuses entries that leave the root, with the same message, category and hint', () => {
    for (const path of ['', 'a\0b', '/x', 'C:x', 'a/../../b', '..']) {
      const guard = createEntryGuard('a.tgz', limits);
      expect(() => guard.admit(path, 0)).toThrow(
        expect.objectContaining({
          code: 'PLUGIN_ARCHIVE_UNSAFE',
          message: `a.tgz: entry "${path}" leaves the archive (absolute path or "..")`,
          category: 'invalid',
          hint: 'the archive is refused as a whole; rebuild it with plain relative paths',
        }),
      );
    }
  });

  it('keeps a colon inside a name, and takes the root entry more than once', () => {
    const guard = createEntryGuard('a.tgz', limits);
    expect(guard.admit('dir/x:y', 0)).toBe('dir/x:y');
    expect(guard.admit('bin//', 0)).toBe('bin');
    expect(guard.admit('./', 0)).toBe('');
    expect(guard.admit('.', 0)).toBe('');
    expect(guard.admit('./', 0)).toBe('');
  });

  it('refuses names a file system takes for one, and keeps names that only look alike', () => {
    const guard = createEntryGuard('a.tgz', limits);
    expect(guard.admit('straße', 0)).toBe('straße');
    expect(guard.admit('strasse', 0)).toBe('strasse');
    expect(guard.admit('Bin', 0)).toBe('Bin');
    expect(() => guard.admit('bin', 0)).toThrow(
      expect.objectContaining({
        code: 'PLUGIN_ARCHIVE_DUPLICATE',
        message: 'a.tgz: holds "bin" more than once',
        category: 'invalid',
        hint: 'what a reviewer reads must be what runs: rebuild the archive with each path once (names differing only in case or Unicode form count as one)',
      }),
    );
  });

  it('states the limit an archive passes, with category and hint', () => {
    const many = createEntryGuard('a.tgz', { maxUnpackedBytes: 100, maxEntries: 1 });
    many.admit('a', 1);
    expect(() => many.admit('b', 1)).toThrow(
      expect.objectContaining({
        code: 'PLUGIN_ARCHIVE_TOO_LARGE',
        message: 'a.tgz: holds more than 1 entries',
        category: 'invalid',
        hint: 'a plugin archive holds one executable and optionally its spec',
      }),
    );
    const big = createEntryGuard('a.tgz', { maxUnpackedBytes: 100, maxEntries: 10 });
    big.admit('a', 100);
    expect(() => big.admit('b', 1)).toThrow(
      expect.objectContaining({
        code: 'PLUGIN_ARCHIVE_TOO_LARGE',
        message: 'a.tgz: unpacks to more than 100 bytes',
        category: 'invalid',
        hint: 'a plugin archive holds one executable and optionally its spec',
      }),
    );
  });

  it('refuses writing through a link with a long or nested name', () => {
    const guard = createEntryGuard('a.tgz', limits);
    guard.admit('lib', 0);
    guard.symlink('lib', 'real');
    expect(() => guard.admit('lib/x', 1)).toThrow(
      expect.objectContaining({ message: 'a.tgz: entry "lib/x" is written through the symbolic link "lib"' }),
    );
    const nested = createEntryGuard('a.tgz', limits);
    nested.admit('a/b', 0);
    nested.symlink('a/b', 'c');
    expect(() => nested.admit('a/b/c', 1)).toThrow(
      expect.objectContaining({ message: 'a.tgz: entry "a/b/c" is written through the symbolic link "a/b"' }),
    );
    expect(() => nested.symlink('d', 'a/b/x')).toThrow(
      expect.objectContaining({
        code: 'PLUGIN_ARCHIVE_UNSAFE',
        message: 'a.tgz: link "d" points through another link (a/b/x)',
      }),
    );
  });

  it('refuses links that are empty or climb out through . and empty segments', () => {
    for (const target of ['', './..', 'x//../..', 'x/./../..']) {
      const guard = createEntryGuard('a.tgz', limits);
      expect(() => guard.symlink('l', target)).toThrow(
        expect.objectContaining({
          code: 'PLUGIN_ARCHIVE_UNSAFE',
          message: `a.tgz: link "l" points outside the archive (${target})`,
        }),
      );
    }
    const guard = createEntryGuard('a.tgz', limits);
    expect(() => guard.symlink('l', './x//y/../z')).not.toThrow();
  });

  it('refuses a tar link without a target as an archive it cannot unpack', async () => {
    for (const type of ['symlink', 'hardlink'] as const) {
      const { run } = await extractTar([{ path: 'l', type }]);
      await expect(run()).rejects.toMatchObject({
        code: 'PLUGIN_ARCHIVE_INVALID',
        message: 'a.tgz: cannot unpack: TAR_ENTRY_INVALID: linkpath required',
      });
    }
  });

  it('unpacks into a folder whose parents do not exist yet, keeping the executable bit of a tar file', async () => {
    const dir = tempDir();
    const file = join(dir, 'a.tgz');
    writeFileSync(file, tarGz([{ path: 'run', data: '#!/bin/sh\n', mode: 0o755 }]));
    const out = join(dir, 'deep', 'er', 'out');
    await extractArchive(file, 'tar.gz', out, 'a.tgz', limits);
    expect(statSync(join(out, 'run')).mode & 0o111).not.toBe(0);
    const zip = join(dir, 'a.zip');
    writeFileSync(zip, zipFile([{ path: 'z', data: 'x' }]));
    await extractArchive(zip, 'zip', join(dir, 'other', 'out'), 'a.zip', limits);
    expect(readFileSync(join(dir, 'other', 'out', 'z'), 'utf8')).toBe('x');
  });

  it('refuses a tar whose header checksum is wrong, as invalid with its hint', async () => {
    const dir = tempDir();
    const bytes = tarball([{ path: 'p', data: 'x' }]);
    bytes[0] = 0x71; // the checksum no longer matches
    const file = join(dir, 'a.tar');
    writeFileSync(file, bytes);
    await expect(extractArchive(file, 'tar', join(dir, 'out'), 'a.tar', limits)).rejects.toMatchObject({
      code: 'PLUGIN_ARCHIVE_INVALID',
      category: 'invalid',
      hint: 'check that the artifact is a well-formed .tar.gz or .zip',
    });
  });

  it('reports a corrupt gzip with the reason only, not the error class', async () => {
    const dir = tempDir();
    const file = join(dir, 'a.tgz');
    writeFileSync(file, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(64, 0xff)]));
    const err = await extractArchive(file, 'tar.gz', join(dir, 'out'), 'a.tgz', limits).catch((e) => e);
    expect(err).toMatchObject({ code: 'PLUGIN_ARCHIVE_INVALID', category: 'invalid' });
    expect(err.message).toMatch(/^a\.tgz: cannot unpack: [a-z]/);
    expect(err.message).not.toContain('Error');
  });

  it('gives no streamed hashes when an archive holds a symbolic link', async () => {
    const dir = tempDir();
    const sink = new ArtifactSink(join(dir, 'artifact'), join(dir, 'x'), 'a.tgz', limits);
    await pipeline(
      Readable.from([
        tarGz([
          { path: 'a', data: 'one' },
          { path: 'l', type: 'symlink', linkpath: 'a' },
        ]),
      ]),
      sink,
    );
    expect(sink.streamed).toBe('tar');
    expect(sink.fileHashes).toBeUndefined();
  });

  for (const [what, first] of [
    ['0x1f without 0x8b', Buffer.from([0x1f, 0x41])],
    ['0x8b without 0x1f', Buffer.from([0x41, 0x8b])],
  ] as const) {
    it(`writes a download starting with ${what} to the artifact file`, async () => {
      const dir = tempDir();
      const sink = new ArtifactSink(join(dir, 'artifact'), join(dir, 'x'), 'a.tgz', limits);
      const body = Buffer.concat([first, Buffer.from('rest')]);
      await pipeline(Readable.from([body]), sink);
      expect(sink.streamed).toBe('file');
      expect(readFileSync(join(dir, 'artifact'))).toEqual(body);
    });
  }

  it('unpacks a streamed .tar.gz into a folder whose parents do not exist yet', async () => {
    const dir = tempDir();
    const out = join(dir, 'deep', 'er', 'x');
    const sink = new ArtifactSink(join(dir, 'artifact'), out, 'a.tgz', limits);
    await pipeline(Readable.from([tarGz([{ path: 'a', data: 'one' }])]), sink);
    expect(readFileSync(join(out, 'a'), 'utf8')).toBe('one');
  });

  it('fails a download whose hostile entry arrives after the first files are written', async () => {
    const dir = tempDir();
    const sink = new ArtifactSink(join(dir, 'artifact'), join(dir, 'x'), 'a.tgz', limits);
    const first = tarball([{ path: 'a', data: 'one' }]);
    const rest = tarball([{ path: '../evil', data: 'x' }]);
    async function* source() {
      yield gzipSync(first.subarray(0, first.length - 1024));
      await new Promise((r) => setTimeout(r, 100));
      yield gzipSync(rest);
    }
    await expect(pipeline(Readable.from(source()), sink)).rejects.toMatchObject({
      code: 'PLUGIN_ARCHIVE_UNSAFE',
      message: 'a.tgz: entry "../evil" leaves the archive (absolute path or "..")',
    });
  });

  it('stops reading a download soon after its archive is refused', async () => {
    const dir = tempDir();
    const sink = new ArtifactSink(join(dir, 'artifact'), join(dir, 'x'), 'a.tgz', limits);
    const gz = tarGz([
      { path: '../evil', data: 'x' },
      { path: 'noise', data: randomBytes(4 * 1024 * 1024) },
    ]);
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < gz.length; i += 64 * 1024) {
        pulled++;
        yield gz.subarray(i, i + 64 * 1024);
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    await expect(pipeline(Readable.from(source()), sink)).rejects.toMatchObject({
      code: 'PLUGIN_ARCHIVE_UNSAFE',
    });
    expect(pulled).toBeLessThan(20);
  });

  it('reports an artifact file that cannot be written', async () => {
    const dir = tempDir();
    const sink = new ArtifactSink(join(dir, 'missing', 'artifact'), join(dir, 'x'), 'a.zip', limits);
    async function* source() {
      yield Buffer.from('PK\x03\x04 first');
      await new Promise((r) => setTimeout(r, 50));
      yield Buffer.from('second');
    }
    await expect(pipeline(Readable.from(source()), sink)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports an artifact file that cannot be written, when it is the only chunk', async () => {
    const dir = tempDir();
    const sink = new ArtifactSink(join(dir, 'missing', 'artifact'), join(dir, 'x'), 'a.zip', limits);
    await expect(pipeline(Readable.from([Buffer.from('PK\x03\x04')]), sink)).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('passes on the reason of a download that fails halfway, for a file and for an archive', async () => {
    for (const [name, first] of [
      ['a.zip', Buffer.from('PK\x03\x04 first')],
      ['a.tgz', tarGz([{ path: 'a', data: 'one' }]).subarray(0, 20)],
    ] as const) {
      const dir = tempDir();
      const sink = new ArtifactSink(join(dir, 'artifact'), join(dir, 'x'), name, limits);
      async function* source() {
        yield first;
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('connection reset');
      }
      await expect(pipeline(Readable.from(source()), sink)).rejects.toThrow('connection reset');
      expect(sink.destroyed).toBe(true);
    }
  });

  it('passes on the reason of a download that fails before any byte arrived', async () => {
    const dir = tempDir();
    const sink = new ArtifactSink(join(dir, 'artifact'), join(dir, 'x'), 'a.zip', limits);
    const closed = new Promise((r) => sink.once('close', r));
    const errors: Error[] = [];
    sink.on('error', (e) => errors.push(e));
    sink.destroy(new Error('connection refused'));
    await closed;
    expect(errors.map((e) => e.message)).toEqual(['connection refused']);
    expect(existsSync(join(dir, 'artifact'))).toBe(false);
  });
});

describe('archive edges a user sees, zip and listing', { timeout: 10_000 }, () => {
  it('refuses a .zip root entry that is not a directory', async () => {
    const { run } = await extractZip([{ path: '.', data: 'x' }]);
    await expect(run()).rejects.toMatchObject({
      code: 'PLUGIN_ARCHIVE_UNSAFE',
      message: 'a.zip: entry "." is not a directory',
    });
  });

  it('unpacks a .zip folder whose parent folder has no entry of its own', async () => {
    const { out, run } = await extractZip([
      { path: 'a/b/', mode: 0o40755 },
      { path: 'a/b/f', data: 'x' },
    ]);
    await run();
    expect(readFileSync(join(out, 'a/b/f'), 'utf8')).toBe('x');
  });

  it('lists only the regular files unpacked, not the links', async () => {
    const { out, run } = await extractTar([
      { path: 'a', data: 'one' },
      { path: 'l', type: 'symlink', linkpath: 'a' },
    ]);
    await run();
    expect(await listFiles(out)).toEqual([{ path: 'a', size: 3 }]);
  });

  it('names a FIFO as such when refusing it', async () => {
    const { run } = await extractTar([{ path: 'f', type: 'fifo' }]);
    await expect(run()).rejects.toMatchObject({
      code: 'PLUGIN_ARCHIVE_UNSAFE',
      message: 'a.tgz: entry "f" is a device file or FIFO',
    });
  });
});
