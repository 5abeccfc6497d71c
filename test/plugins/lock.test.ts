/** plugins.lock.yaml as a user meets it (read, refused with a reason, written byte-stable) and the state cache. */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  formatLock,
  type LockEntry,
  type LockFile,
  openStateCache,
  readLock,
  STATE_FILE,
  sameLock,
  sha256File,
  writeLock,
} from '../../src/plugins/install/lock.js';
import { tempDir } from './helpers.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function entry(name: string, over: Partial<LockEntry> = {}): LockEntry {
  return {
    name,
    source: `https://plugins.example/${name}.tar.gz`,
    sha256: sha(name),
    kind: 'binary',
    version: '1.0.0',
    dialect: 'v3',
    files: [
      { path: name, sha256: sha(`${name}-exe`) },
      { path: `optimus-plugin-${name}.yaml`, sha256: sha(`${name}-spec`) },
    ],
    ...over,
  };
}

function lockFile(text: string): string {
  const file = join(tempDir(), 'plugins.lock.yaml');
  writeFileSync(file, text);
  return file;
}

const valid = (plugin: string) => `lock_version: 1\nplugins:\n${plugin}`;
const item = `  - {name: a, source: a.yaml, sha256: abc, kind: yaml, version: "1.0", dialect: v3, files: [{path: optimus-plugin-a.yaml, sha256: def}]}\n`;

describe('reading plugins.lock.yaml', () => {
  it('reads what it wrote, and nothing when there is no lock yet', async () => {
    const file = join(tempDir(), 'plugins.lock.yaml');
    expect(await readLock(file)).toBeUndefined();
    const lock: LockFile = { plugins: [entry('b'), entry('a', { kind: 'yaml', files: [] })] };
    await writeLock(file, lock);
    expect(await readLock(file)).toEqual({ plugins: [entry('a', { kind: 'yaml', files: [] }), entry('b')] });
  });

  it('keeps every value a string, as written (versions that look like numbers or dates too)', async () => {
    const file = lockFile(
      valid(
        '  - {name: a, source: a.yaml, sha256: abc, kind: yaml, version: 2024-01-01, dialect: 1.10, files: []}\n',
      ),
    );
    expect((await readLock(file))!.plugins[0]).toMatchObject({ version: '2024-01-01', dialect: '1.1' });
  });

  it('says a lock it cannot read is unreadable', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'plugins.lock.yaml'));
    await expect(readLock(join(dir, 'plugins.lock.yaml'))).rejects.toMatchObject({
      code: 'PLUGIN_LOCK_UNREADABLE',
      category: 'io',
      message: expect.stringMatching(/plugins\.lock\.yaml: EISDIR/),
    });
  });

  const broken: [string, string, string][] = [
    ['a YAML syntax error, with its line', 'lock_version: 1\nplugins: [\n', 'line 3: '],
    ['a list at the top', '- a\n', 'expected a mapping'],
    ['an empty file', '', 'expected a mapping'],
    ['a scalar at the top', 'just text\n', 'expected a mapping'],
    ['another lock_version', 'lock_version: 2\nplugins: []\n', 'unsupported lock_version 2'],
    ['no lock_version', 'plugins: []\n', 'unsupported lock_version undefined'],
    ['plugins that are not a list', 'lock_version: 1\nplugins: {a: 1}\n', '"plugins" must be a list'],
    ['a plugin that is not a mapping', valid('  - null\n'), 'plugins[0].kind is missing'],
    ['a plugin without a name', valid(item.replace('name: a, ', '')), 'plugins[0].name is missing'],
    [
      'a plugin with a list for a version',
      valid(item.replace('"1.0"', '[1]')),
      'plugins[0].version is missing',
    ],
    [
      'an unknown kind',
      valid(item.replace('kind: yaml', 'kind: wasm')),
      'plugins[0].kind must be yaml or binary',
    ],
    [
      'files that are not a list',
      valid(item.replace(/files: .*}/, 'files: x}')),
      'plugins[0].files must be a list',
    ],
    [
      'a file that is not a mapping',
      valid(item.replace(/files: .*}/, 'files: [null]}')),
      'plugins[0].files[0] needs path and sha256',
    ],
    [
      'a file without a path',
      valid(item.replace('path: optimus-plugin-a.yaml, ', '')),
      'plugins[0].files[0] needs path and sha256',
    ],
    [
      'a file without a sha256',
      valid(item.replace(', sha256: def', '')),
      'plugins[0].files[0] needs path and sha256',
    ],
    [
      'a file with a number for a path',
      valid(item.replace('path: optimus-plugin-a.yaml', 'path: 7')),
      'plugins[0].files[0] needs path and sha256',
    ],
  ];
  for (const [what, text, message] of broken) {
    it(`refuses a lock with ${what}, saying how to recover`, async () => {
      const file = lockFile(text);
      await expect(readLock(file)).rejects.toMatchObject({
        code: 'PLUGIN_LOCK_INVALID',
        category: 'invalid',
        message: message.endsWith(': ')
          ? expect.stringMatching(
              new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${message}\\S`),
            )
          : `${file}: ${message}`,
        hint: 'restore it from git, or delete it and run `optimus plugin install` to write a new one',
      });
    });
  }

  it('accepts a version written as a number', async () => {
    const file = lockFile(valid(item.replace('"1.0"', '2')));
    expect((await readLock(file))!.plugins[0]!.version).toBe('2');
  });
});

describe('writing plugins.lock.yaml', () => {
  it('sorts plugins by name and files by path, in code-point order, with keys in a fixed order', () => {
    const long = `shared disk/a very long path that goes on and on beyond eighty columns/${'x'.repeat(60)}.tar.gz`;
    const text = formatLock({
      plugins: [
        entry('b', {
          files: [
            { path: 'z', sha256: '1' },
            { path: 'B', sha256: '2' },
            { path: 'a', sha256: '3' },
          ],
        }),
        entry('a', { source: long, files: [] }),
        entry('C', { files: [] }),
      ],
    });
    expect(text).toBe(
      [
        '# Written by `optimus plugin install`: commit it, do not edit it.',
        'lock_version: 1',
        'plugins:',
        '  - name: C',
        '    source: https://plugins.example/C.tar.gz',
        `    sha256: ${sha('C')}`,
        '    kind: binary',
        '    version: 1.0.0',
        '    dialect: v3',
        '    files: []',
        '  - name: a',
        `    source: ${long}`,
        `    sha256: ${sha('a')}`,
        '    kind: binary',
        '    version: 1.0.0',
        '    dialect: v3',
        '    files: []',
        '  - name: b',
        '    source: https://plugins.example/b.tar.gz',
        `    sha256: ${sha('b')}`,
        '    kind: binary',
        '    version: 1.0.0',
        '    dialect: v3',
        '    files:',
        '      - path: B',
        '        sha256: "2"',
        '      - path: a',
        '        sha256: "3"',
        '      - path: z',
        '        sha256: "1"',
        '',
      ].join('\n'),
    );
  });

  it('tells locks apart by content, not by order', () => {
    const base: LockFile = { plugins: [entry('a'), entry('b')] };
    expect(sameLock(base, { plugins: [entry('b'), entry('a')] })).toBe(true);
    const reordered = entry('a');
    reordered.files.reverse();
    expect(sameLock(base, { plugins: [reordered, entry('b')] })).toBe(true);
    const changes: Partial<LockEntry>[] = [
      { source: 'elsewhere' },
      { sha256: 'other' },
      { kind: 'yaml' },
      { version: '2.0.0' },
      { dialect: 'v1' },
      { files: [{ path: 'a', sha256: 'changed' }] },
      { files: [{ path: 'renamed', sha256: sha('a-exe') }] },
    ];
    for (const change of changes)
      expect(sameLock(base, { plugins: [entry('a', change), entry('b')] })).toBe(false);
    expect(sameLock(base, { plugins: [entry('a')] })).toBe(false);
  });

  it('writes through a temp file that it renames, leaving nothing else beside the lock', async () => {
    const dir = tempDir();
    const file = join(dir, 'plugins.lock.yaml');
    await writeLock(file, { plugins: [entry('a')] });
    await writeLock(file, { plugins: [entry('b')] });
    expect(readdirSync(dir)).toEqual(['plugins.lock.yaml']);
    expect(readFileSync(file, 'utf8')).toBe(formatLock({ plugins: [entry('b')] }));
  });

  it('hashes a file as sha256sum does', async () => {
    const file = join(tempDir(), 'f');
    writeFileSync(file, Buffer.alloc(3 * 1024 * 1024, 'x'));
    expect(await sha256File(file)).toBe(
      createHash('sha256')
        .update(Buffer.alloc(3 * 1024 * 1024, 'x'))
        .digest('hex'),
    );
  });
});

describe('install state cache', () => {
  function installed(content = 'plugin bytes') {
    const dir = tempDir();
    writeFileSync(join(dir, 'p'), content);
    return dir;
  }

  it('trusts a file whose size, times and inode are as recorded, without hashing it', async () => {
    const dir = installed();
    const cache = await openStateCache(dir, { trust: true });
    // Recorded under a checksum that is not its content: only a cache that did not hash says ok.
    await cache.record('p', 'recorded-sha');
    await cache.save();
    const again = await openStateCache(dir, { trust: true });
    expect(await again.check('p', 'recorded-sha')).toBe('ok');
    expect(await again.check('p', 'another-sha')).toBe('modified');
    const distrustful = await openStateCache(dir, { trust: false });
    expect(await distrustful.check('p', 'recorded-sha')).toBe('modified');
  });

  const fields = ['size', 'mtimeMs', 'ctimeMs', 'ino'] as const;
  for (const field of fields) {
    it(`hashes a file again when its ${field} differs from the record`, async () => {
      const dir = installed();
      const st = statSync(join(dir, 'p'));
      const fp = {
        size: st.size,
        mtimeMs: st.mtimeMs,
        ctimeMs: st.ctimeMs,
        ino: st.ino,
        sha256: 'recorded-sha',
      };
      writeFileSync(
        join(dir, STATE_FILE),
        JSON.stringify({ files: { p: { ...fp, [field]: fp[field] + 1 } } }),
      );
      const cache = await openStateCache(dir, { trust: true });
      expect(await cache.check('p', 'recorded-sha')).toBe('modified');
    });
  }

  it('hashes when the record is for another checksum, and records a file that hashes right', async () => {
    const dir = installed();
    const real = sha('plugin bytes');
    const cache = await openStateCache(dir, { trust: true });
    await cache.record('p', 'old-sha');
    expect(await cache.check('p', real)).toBe('ok');
    await cache.save();
    const state = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8'));
    expect(state.files.p).toMatchObject({ sha256: real, size: 12, ino: statSync(join(dir, 'p')).ino });
  });

  it('says missing for an absent file and modified for a directory in its place', async () => {
    const dir = installed();
    mkdirSync(join(dir, 'd'));
    const cache = await openStateCache(dir, { trust: true });
    expect(await cache.check('gone', 'x')).toBe('missing');
    expect(await cache.check('d', 'x')).toBe('modified');
  });

  it('forgets a removed file, and writes the state only when something changed', async () => {
    const dir = installed();
    const cache = await openStateCache(dir, { trust: true });
    await cache.save();
    expect(readdirSync(dir)).toEqual(['p']);
    await cache.record('p', 'recorded-sha');
    cache.forget('p');
    cache.forget('never-recorded');
    await cache.save();
    expect(JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8'))).toEqual({ files: {} });
    expect(await (await openStateCache(dir, { trust: true })).check('p', 'recorded-sha')).toBe('modified');
  });

  it('writes nothing for a file it never recorded, and writes a saved state once', async () => {
    const dir = installed();
    const cache = await openStateCache(dir, { trust: true });
    cache.forget('never-recorded');
    await cache.save();
    expect(readdirSync(dir)).toEqual(['p']);
    await cache.record('p', 'recorded-sha');
    await cache.save();
    writeFileSync(join(dir, STATE_FILE), '{"files": {}, "note": "untouched"}');
    await cache.save();
    expect(JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')).note).toBe('untouched');
  });

  it('keeps the recorded config across runs and rewrites the state only when it changes', async () => {
    const dir = installed();
    const record = {
      file: join(dir, 'optimus.yaml'),
      sha256: 'cfg',
      section: { file: 'f', configDir: dir, installLocation: dir, providers: [], list: [] },
    };
    const cache = await openStateCache(dir, { trust: true });
    expect(cache.config).toBeUndefined();
    cache.setConfig(record);
    await cache.save();
    const next = await openStateCache(dir, { trust: true });
    expect(next.config).toEqual(record);
    writeFileSync(join(dir, STATE_FILE), JSON.stringify({ files: {}, config: record, note: 'untouched' }));
    const same = await openStateCache(dir, { trust: true });
    same.setConfig({ ...record });
    await same.save();
    expect(JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')).note).toBe('untouched');
  });

  it('starts afresh from a state file that is not what it wrote', async () => {
    for (const text of ['not json', 'null', '{"files": 3, "config": "x"}', '[]']) {
      const dir = installed();
      writeFileSync(join(dir, STATE_FILE), text);
      const cache = await openStateCache(dir, { trust: true });
      expect(cache.config).toBeUndefined();
      expect(await cache.check('p', sha('plugin bytes'))).toBe('ok');
      await cache.save();
      expect(Object.keys(JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')).files)).toEqual(['p']);
    }
  });
});
