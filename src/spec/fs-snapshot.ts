/**
 * Telling whether a project's files changed since the last run without reading them: a file's
 * identity (inode, size, modification and change times) stands for its bytes, as git's index does.
 * Writing a file changes its times; replacing it (an editor's save by rename, a checkout) changes
 * its inode too. A folder's entries are remembered with its identity the same way: adding,
 * removing or renaming an entry changes the folder's times.
 *
 * Times are only as fine as the file system's clock tick, so an identity is trusted only when it
 * is older than RACY_MS at the start of the run (git's "racily clean" rule): a file written in the
 * same tick as it was read, and written again, may keep its times, but never for that long.
 */
import { readdirSync, type Stats, statSync } from 'node:fs';

/** How old (ms) a file's times must be before its identity stands for its content. */
export const RACY_MS = 2_000;

/** `f` a regular file, `d` a folder, `o` anything else (symlinks and the like are not followed). */
export type EntryKind = 'f' | 'd' | 'o';
export interface DirEntry {
  name: string;
  kind: EntryKind;
}

const byName = (a: DirEntry, b: DirEntry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** A folder's entries in name order; undefined when it is missing or unreadable. */
export function readEntries(dir: string): DirEntry[] | undefined {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .map((e): DirEntry => ({ name: e.name, kind: e.isFile() ? 'f' : e.isDirectory() ? 'd' : 'o' }))
      .sort(byName);
  } catch {
    return undefined;
  }
}

/**
 * A function giving a file's identity: null when there is no such file, undefined when it is not
 * a regular file, cannot be read, or its times are too recent to trust: then its bytes decide.
 */
export function fileIdentities(now: number = Date.now()): (file: string) => string | null | undefined {
  const trustedBefore = now - RACY_MS;
  return (file) => {
    let st: Stats | undefined;
    try {
      st = statSync(file, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    if (!st) return null;
    if (!st.isFile() || st.mtimeMs >= trustedBefore || st.ctimeMs >= trustedBefore) return undefined;
    return identity(st);
  };
}

const identity = (st: Stats) => `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;

/** Folder listings kept between runs: folder → `identity|entries` (see `encodeEntries`). */
export interface ListingMemory {
  get(dir: string): string | undefined;
  set(dir: string, listing: string): void;
}

/** Entries joined by `/`, each its kind letter and name: no name can hold a `/`. */
export const encodeEntries = (entries: readonly DirEntry[]): string =>
  entries.map((e) => `${e.kind}${e.name}`).join('/');

/** The entries `encodeEntries` wrote; undefined for text it cannot have written (a hand edit). */
export function decodeEntries(text: string): DirEntry[] | undefined {
  if (!text) return [];
  const out: DirEntry[] = [];
  for (const e of text.split('/')) {
    const kind = e[0];
    const name = e.slice(1);
    if ((kind !== 'f' && kind !== 'd' && kind !== 'o') || !name || name === '.' || name === '..')
      return undefined;
    if (name.includes('\0')) return undefined;
    out.push({ name, kind });
  }
  return out;
}

/**
 * `readEntries` answered from memory for a folder whose identity is the one remembered; a folder
 * read is remembered when its times are old enough to trust. Its identity is taken before it is
 * read, so a change in between only makes the next run read it again.
 */
export function rememberingLister(
  memory: ListingMemory,
  now: number = Date.now(),
): (dir: string) => DirEntry[] | undefined {
  const trustedBefore = now - RACY_MS;
  return (dir) => {
    let st: Stats | undefined;
    try {
      st = statSync(dir, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    if (!st?.isDirectory()) return undefined;
    const id = identity(st);
    const held = memory.get(dir);
    if (held !== undefined && held.length > id.length && held[id.length] === '|' && held.startsWith(id)) {
      const remembered = decodeEntries(held.slice(id.length + 1));
      if (remembered) return remembered;
    }
    const entries = readEntries(dir);
    if (entries && st.mtimeMs < trustedBefore && st.ctimeMs < trustedBefore)
      memory.set(dir, `${id}|${encodeEntries(entries)}`);
    return entries;
  };
}
