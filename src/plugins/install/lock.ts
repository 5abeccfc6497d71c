/**
 * `plugins.lock.yaml`: what was installed, from where, with which checksums. Sorted by plugin name
 * and file path, keys in a fixed order, so it is byte-stable and diffs well in git.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import jsYaml from 'js-yaml';
import { OptimusError } from '../../core/errors.js';
import type { PluginsSection } from './config.js';

// `yaml` (the writer) and the position-keeping parser load only when needed: a run that changes
// nothing neither writes the lock nor reports a syntax error in it.
const require = createRequire(import.meta.url);

export type PluginKind = 'yaml' | 'binary';

export interface LockedFile {
  /** Relative to install_location. */
  path: string;
  sha256: string;
}

export interface LockEntry {
  name: string;
  source: string;
  /** Of the artifact as downloaded. */
  sha256: string;
  kind: PluginKind;
  version: string;
  dialect: string;
  files: LockedFile[];
}

export interface LockFile {
  plugins: LockEntry[];
}

const HEADER = '# Written by `optimus plugin install`: commit it, do not edit it.\n';
const LOCK_VERSION = 1;

export async function readLock(file: string): Promise<LockFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OptimusError('PLUGIN_LOCK_UNREADABLE', `${file}: ${(e as Error).message}`, { category: 'io' });
  }
  const src = await parseLockYaml(text, file);
  const bad = (msg: string): never => {
    throw new OptimusError('PLUGIN_LOCK_INVALID', `${file}: ${msg}`, {
      category: 'invalid',
      hint: 'restore it from git, or delete it and run `optimus plugin install` to write a new one',
    });
  };
  // Stryker disable next-line ConditionalExpression: problems come only from a failed parse, all errors.
  const syntax = src.problems.find((p) => p.severity === 'error');
  if (syntax) bad(`line ${syntax.line ?? '?'}: ${syntax.message}`);
  const v = src.value as { lock_version?: unknown; plugins?: unknown } | null;
  if (!v || typeof v !== 'object' || Array.isArray(v)) return bad('expected a mapping');
  if (v.lock_version !== LOCK_VERSION) bad(`unsupported lock_version ${JSON.stringify(v.lock_version)}`);
  if (!Array.isArray(v.plugins)) return bad('"plugins" must be a list');
  const plugins: LockEntry[] = [];
  v.plugins.forEach((p: unknown, i: number) => {
    const r = p as Record<string, unknown> | null;
    const str = (k: string) => {
      const x = r?.[k];
      if (typeof x !== 'string' && typeof x !== 'number') bad(`plugins[${i}].${k} is missing`);
      return String(x);
    };
    const kind = str('kind');
    if (kind !== 'yaml' && kind !== 'binary') bad(`plugins[${i}].kind must be yaml or binary`);
    // Stryker disable next-line OptionalChaining: a null plugin was refused by str('kind') above.
    const files = Array.isArray(r?.files)
      ? (r.files as Record<string, unknown>[])
      : bad(`plugins[${i}].files must be a list`);
    plugins.push({
      name: str('name'),
      source: str('source'),
      sha256: str('sha256'),
      kind: kind as PluginKind,
      version: str('version'),
      dialect: str('dialect'),
      files: files.map((f, j) => {
        if (!f || typeof f.path !== 'string' || typeof f.sha256 !== 'string')
          bad(`plugins[${i}].files[${j}] needs path and sha256`);
        return { path: f.path as string, sha256: f.sha256 as string };
      }),
    });
  });
  return { plugins };
}

/**
 * What `parseYaml` of spec/yaml-source returns for valid YAML (js-yaml, core schema), without
 * loading the precise parser: that one (and its messages) is used only for a syntax error.
 */
async function parseLockYaml(
  text: string,
  file: string,
): Promise<{ value: unknown; problems: { severity: string; line?: number; message: string }[] }> {
  try {
    // Stryker disable next-line ArrayDeclaration: a problem without a severity is no error; equivalent.
    return { value: jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA, filename: file }), problems: [] };
  } catch {
    const { parseYaml } = await import('../../spec/yaml-source.js');
    return parseYaml(text, file);
  }
}

/** The lock's content in its canonical order: two locks format alike exactly when these are equal. */
function canonical(lock: LockFile) {
  return [...lock.plugins]
    .sort((a, b) => cmp(a.name, b.name))
    .map((p) => ({
      name: p.name,
      source: p.source,
      sha256: p.sha256,
      kind: p.kind,
      version: p.version,
      dialect: p.dialect,
      files: [...p.files]
        .sort((a, b) => cmp(a.path, b.path))
        .map((f) => ({ path: f.path, sha256: f.sha256 })),
    }));
}

/** Whether `formatLock(a) === formatLock(b)`, without loading the YAML writer. */
export function sameLock(a: LockFile, b: LockFile): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

export function formatLock(lock: LockFile): string {
  const plugins = canonical(lock);
  const { stringify } = require('yaml') as typeof import('yaml');
  return (
    HEADER + stringify({ lock_version: LOCK_VERSION, plugins }, { lineWidth: 0, defaultStringType: 'PLAIN' })
  );
}

/** Write through a temp file and rename, so a reader never sees half a lock file. */
export async function writeLock(file: string, lock: LockFile): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, formatLock(lock));
  await rename(tmp, file);
}

/** Code-point order: the same on every machine and locale. */
function cmp(a: string, b: string): number {
  // Names (and paths) in a lock are unique, so `<=`/`>=` order alike, and sort only asks `< 0`.
  // Stryker disable next-line EqualityOperator,ConditionalExpression: equivalent, as said above.
  return a < b ? -1 : a > b ? 1 : 0;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  // Stryker disable next-line ObjectLiteral,ArithmeticOperator: the read size changes speed, not the hash.
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Per-file stat fingerprints of what the installer wrote, kept inside install_location. Lets a run
 * where nothing changed confirm the installed files without re-hashing them; any change in size,
 * mtime, ctime or inode falls back to hashing.
 */
export interface StateCache {
  check(relPath: string, expectedSha: string): Promise<'ok' | 'missing' | 'modified'>;
  record(relPath: string, sha: string): Promise<void>;
  forget(relPath: string): void;
  /** The config a previous run validated (see config-cache.ts), if any. */
  readonly config: ConfigRecord | undefined;
  setConfig(record: ConfigRecord): void;
  save(): Promise<void>;
}

/** A config file's bytes (by sha256) and the plugins section its full validation produced. */
export interface ConfigRecord {
  file: string;
  sha256: string;
  section: PluginsSection;
}

interface Fingerprint {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: string;
}

export const STATE_FILE = '.optimus-install-state.json';

export async function openStateCache(installLocation: string, opts: { trust: boolean }): Promise<StateCache> {
  const file = join(installLocation, STATE_FILE);
  let entries: Record<string, Fingerprint> = {};
  let config: ConfigRecord | undefined;
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as {
      files?: Record<string, Fingerprint>;
      config?: ConfigRecord;
    };
    if (parsed && typeof parsed.files === 'object' && parsed.files) entries = parsed.files;
    if (parsed && typeof parsed.config === 'object' && parsed.config) config = parsed.config;
  } catch {
    // Missing or unreadable: every file is hashed.
  }
  let dirty = false;
  const fp = async (abs: string) => {
    const st = await stat(abs);
    return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, isFile: st.isFile() };
  };
  return {
    async check(relPath, expectedSha) {
      const abs = join(installLocation, relPath);
      let s: Awaited<ReturnType<typeof fp>>;
      try {
        s = await fp(abs);
      } catch {
        return 'missing';
      }
      if (!s.isFile) return 'modified';
      const known = entries[relPath];
      if (
        opts.trust &&
        known &&
        known.sha256 === expectedSha &&
        known.size === s.size &&
        known.mtimeMs === s.mtimeMs &&
        known.ctimeMs === s.ctimeMs &&
        known.ino === s.ino
      ) {
        return 'ok';
      }
      const sha = await sha256File(abs);
      if (sha !== expectedSha) return 'modified';
      entries[relPath] = { size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino, sha256: sha };
      dirty = true;
      return 'ok';
    },
    async record(relPath, sha) {
      const s = await fp(join(installLocation, relPath));
      entries[relPath] = { size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino, sha256: sha };
      dirty = true;
    },
    forget(relPath) {
      if (relPath in entries) {
        delete entries[relPath];
        dirty = true;
      }
    },
    get config() {
      return config;
    },
    setConfig(record) {
      if (JSON.stringify(record) === JSON.stringify(config)) return;
      config = record;
      dirty = true;
    },
    async save() {
      if (!dirty) return;
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(config ? { files: entries, config } : { files: entries }));
      await rename(tmp, file);
      dirty = false;
    },
  };
}
