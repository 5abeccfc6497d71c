/**
 * The CLI's validation cache: per project directory, one file under `cacheRoot()` holding, for each
 * job folder, the key its last clean check was made with (see `JobCheckCache` in
 * validate-project.ts) and what that check found. A re-validation of an unchanged project then
 * reads its files but parses and checks none of them.
 *
 * The cache can only ever save time: a file that is missing, corrupt, written by another CLI
 * version or unwritable is ignored, never an error.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Problem } from '../core/problem.js';
import type { CachedJobCheck, JobCheckCache } from '../services/validate-project.js';
import { cacheRoot } from './plugin-cache.js';
import { VERSION } from './version.js';

/** Changes whenever the file's layout does; a file of another format is ignored. */
const FORMAT = 3;
/** Project files kept; the least recently written beyond this are removed. */
const MAX_PROJECTS = 32;
/** Entries kept per project: a project larger than this caches its first jobs only. */
const MAX_ENTRIES = 100_000;
/** Folder listings kept per project (a job has its folder and its assets folder, at least). */
const MAX_LISTINGS = 4 * MAX_ENTRIES;

/**
 * [key, name, hash, identity key ('' when none), problems?] per job folder, short so 10,000 jobs
 * stay a small file.
 */
type Entry = [string, string, string, string, Problem[]?];

interface CacheFile {
  format: number;
  cli: string;
  project: string;
  entries: Record<string, Entry>;
  /** Folder → `identity|entries` (see fs-snapshot.ts). */
  listings: Record<string, string>;
}

export interface ValidationCache extends JobCheckCache {
  /** Write the entries of this run's jobs (only when something changed). */
  save(): void;
}

export function validationCacheDir(): string {
  return join(cacheRoot(), 'validation');
}

export function validationCacheFile(projectDir: string): string {
  const abs = resolve(projectDir);
  return join(validationCacheDir(), `${createHash('sha256').update(abs).digest('hex').slice(0, 24)}.json`);
}

export function openValidationCache(projectDir: string): ValidationCache {
  const project = resolve(projectDir);
  const file = validationCacheFile(project);
  const { entries: old, listings: oldListings } = readCache(file, project);
  // Only the folders seen in this run are written back: a deleted job's entry goes with it.
  const next: Record<string, Entry> = {};
  const nextListings: Record<string, string> = {};
  let changed = false;
  let size = 0;
  let listed = 0;
  const asked = new Set<string>();
  const rel = (dir: string) => (dir.startsWith(`${project}/`) ? dir.slice(project.length + 1) : dir);
  const keepEntry = (dir: string, e: Entry) => {
    if (!(dir in next)) {
      if (size >= MAX_ENTRIES) return;
      size++;
    }
    next[dir] = e;
  };
  return {
    get(dir, key) {
      const e = old[rel(dir)];
      if (!e || (e[0] !== key && e[3] !== key)) return undefined;
      keepEntry(rel(dir), e);
      return { name: e[1], hash: e[2], problems: e[4] ?? [], ...(e[3] ? { identityKey: e[3] } : {}) };
    },
    set(dir, key, value: CachedJobCheck) {
      const e: Entry = [key, value.name, value.hash, value.identityKey ?? ''];
      if (value.problems.length) e.push(value.problems);
      keepEntry(rel(dir), e);
      changed = true;
    },
    listings: {
      get(dir) {
        const d = rel(dir);
        asked.add(d);
        return oldListings[d];
      },
      set(dir, listing) {
        const d = rel(dir);
        if (!(d in nextListings)) {
          if (listed >= MAX_LISTINGS) return;
          listed++;
        }
        nextListings[d] = listing;
        changed = true;
      },
    },
    save() {
      if (!changed && Object.keys(old).length === size) return;
      // Listings read from memory in this run stay remembered; ones not seen are dropped.
      for (const [d, l] of Object.entries(oldListings)) {
        if (listed >= MAX_LISTINGS) break;
        if (!(d in nextListings) && asked.has(d)) {
          nextListings[d] = l;
          listed++;
        }
      }
      writeCache(file, { format: FORMAT, cli: VERSION, project, entries: next, listings: nextListings });
    },
  };
}

function readCache(
  file: string,
  project: string,
): { entries: Record<string, Entry>; listings: Record<string, string> } {
  const none = { entries: {}, listings: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return none;
  }
  const c = parsed as Partial<CacheFile> | null;
  if (
    !c ||
    typeof c !== 'object' ||
    c.format !== FORMAT ||
    c.cli !== VERSION ||
    c.project !== project ||
    !c.entries ||
    typeof c.entries !== 'object' ||
    !c.listings ||
    typeof c.listings !== 'object'
  )
    return none;
  const entries: Record<string, Entry> = {};
  for (const [dir, e] of Object.entries(c.entries)) if (validEntry(e)) entries[dir] = e;
  const listings: Record<string, string> = {};
  for (const [dir, l] of Object.entries(c.listings)) if (typeof l === 'string') listings[dir] = l;
  return { entries, listings };
}

/** A hand-edited or truncated entry is dropped (that job is checked), never trusted. */
function validEntry(e: unknown): e is Entry {
  if (!Array.isArray(e) || e.length < 4 || e.length > 5) return false;
  if (e.slice(0, 4).some((x) => typeof x !== 'string') || !e[0]) return false;
  if (e.length === 4) return true;
  return (
    Array.isArray(e[4]) &&
    e[4].every(
      (p: unknown) =>
        p !== null &&
        typeof p === 'object' &&
        (p as Problem).severity === 'warning' &&
        typeof (p as Problem).code === 'string' &&
        typeof (p as Problem).message === 'string',
    )
  );
}

function writeCache(file: string, content: CacheFile): void {
  const dir = validationCacheDir();
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, JSON.stringify(content));
    renameSync(tmp, file);
    prune(dir, file);
  } catch {
    // A read-only or full cache folder only costs the next run its time.
    try {
      rmSync(tmp, { force: true });
    } catch {}
  }
}

/** Keep the MAX_PROJECTS most recently written project files; leftovers of killed writes go too. */
function prune(dir: string, keep: string): void {
  const files = readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((f) => f !== keep)
    .map((f) => {
      try {
        return { f, t: statSync(f).mtimeMs };
      } catch {
        return { f, t: 0 };
      }
    })
    .sort((a, b) => b.t - a.t);
  const stale = Date.now() - 60 * 60 * 1000;
  files.forEach(({ f, t }, i) => {
    if (i >= MAX_PROJECTS - 1 || (f.endsWith('.tmp') && t < stale)) rmSync(f, { force: true });
  });
}
