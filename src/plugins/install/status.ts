/**
 * Read-only views of an install: each plugin as the config, the lock and the disk see it (for
 * `list` and `diff`), files that belong to no configured plugin (for `clean`), and what each
 * provider offers (for `available`). Nothing here runs plugin code.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PluginsSection } from './config.js';
import { lockDisagreements, lockFileOf, specFileName } from './installer.js';
import { acquireLocationLock, LOCATION_LOCK_FILE } from './location-lock.js';
import { type LockEntry, openStateCache, readLock, STATE_FILE, writeLock } from './lock.js';
import { createProviderSet, type HttpTuning, sourceOf } from './providers/index.js';
import type { AvailableArtifact } from './providers/provider.js';
import { createRedactor } from './secrets.js';

export type DiskState = 'verified' | 'modified' | 'missing';

export interface PluginView {
  name: string;
  inConfig: boolean;
  /** Source as the config says. */
  configSource?: string;
  locked?: LockEntry;
  /** How the installed files compare with the lock (absent when not locked). */
  disk?: DiskState;
  /** Files that are modified or missing. */
  changedFiles: string[];
}

export async function inspect(
  section: PluginsSection,
): Promise<{ lockFile: string; views: PluginView[]; disagreements: string[] }> {
  const lockFile = lockFileOf(section);
  const lock = (await readLock(lockFile)) ?? { plugins: [] };
  const locked = new Map(lock.plugins.map((p) => [p.name, p]));
  const cache = await openStateCache(section.installLocation, { trust: false });
  const names = [...new Set([...section.list.map((e) => e.name), ...locked.keys()])].sort();
  const byName = new Map(section.list.map((e) => [e.name, e]));
  const views: PluginView[] = [];
  for (const name of names) {
    const entry = byName.get(name);
    const l = locked.get(name);
    const v: PluginView = { name, inConfig: !!entry, changedFiles: [] };
    if (entry) v.configSource = sourceOf(entry);
    if (l) {
      v.locked = l;
      let missing = 0;
      for (const f of l.files) {
        const s = await cache.check(f.path, f.sha256);
        if (s !== 'ok') v.changedFiles.push(f.path);
        if (s === 'missing') missing++;
      }
      v.disk = v.changedFiles.length === 0 ? 'verified' : missing === l.files.length ? 'missing' : 'modified';
    }
    views.push(v);
  }
  return { lockFile, views, disagreements: lockDisagreements(section.list, locked, true, section) };
}

const OWN_FILES = new Set([STATE_FILE, LOCATION_LOCK_FILE]);

/** Entries of install_location that belong to no configured plugin. */
export async function strayEntries(section: PluginsSection): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(section.installLocation);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const lock = (await readLock(lockFileOf(section))) ?? { plugins: [] };
  const keep = new Set<string>(OWN_FILES);
  const configured = new Set(section.list.map((e) => e.name));
  for (const name of configured) {
    keep.add(name);
    keep.add(specFileName(name));
  }
  for (const p of lock.plugins) if (configured.has(p.name)) for (const f of p.files) keep.add(f.path);
  return names.filter((n) => !keep.has(n)).sort();
}

/** Remove stray entries (and lock entries of plugins no longer configured). */
export async function clean(
  section: PluginsSection,
  opts: { dryRun?: boolean } = {},
): Promise<{ removed: string[]; lockPruned: string[] }> {
  const lockFile = lockFileOf(section);
  if (opts.dryRun) {
    const lock = (await readLock(lockFile)) ?? { plugins: [] };
    const configured = new Set(section.list.map((e) => e.name));
    return {
      removed: await strayEntries(section),
      lockPruned: lock.plugins.filter((p) => !configured.has(p.name)).map((p) => p.name),
    };
  }
  const held = await acquireLocationLock(section.installLocation).catch((e) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  });
  try {
    const removed = await strayEntries(section);
    for (const name of removed)
      await rm(join(section.installLocation, name), { recursive: true, force: true });
    const lock = await readLock(lockFile);
    const configured = new Set(section.list.map((e) => e.name));
    const lockPruned = (lock?.plugins ?? []).filter((p) => !configured.has(p.name)).map((p) => p.name);
    if (lock && lockPruned.length)
      await writeLock(lockFile, { plugins: lock.plugins.filter((p) => configured.has(p.name)) });
    return { removed, lockPruned };
  } finally {
    await held?.release();
  }
}

export interface ProviderOffer {
  provider: string;
  type: string;
  artifacts: (AvailableArtifact & { installedAs?: string })[];
  error?: { code: string; message: string };
}

export async function available(
  section: PluginsSection,
  providerNames: string[],
  opts: { env?: NodeJS.ProcessEnv; http?: HttpTuning } = {},
): Promise<ProviderOffer[]> {
  const lock = (await readLock(lockFileOf(section))) ?? { plugins: [] };
  const bySource = new Map(lock.plugins.map((p) => [p.source, p.name]));
  const byName = new Map(lock.plugins.map((p) => [p.name, p]));
  const redactor = createRedactor();
  const set = createProviderSet(section, {
    env: opts.env ?? process.env,
    redactor,
    ...(opts.http ? { http: opts.http } : {}),
  });
  const chosen = providerNames.length ? providerNames : section.providers.map((p) => p.name);
  return Promise.all(
    chosen.map(async (name): Promise<ProviderOffer> => {
      const type = section.providers.find((p) => p.name === name)?.type ?? 'unknown';
      try {
        const provider = await set.get(name);
        const artifacts = (await provider.list()).map((a) => {
          const installedAs =
            bySource.get(sourceOf({ provider: name, url: a.ref })) ??
            (a.name && byName.get(a.name)?.source.endsWith(a.ref) ? a.name : undefined);
          return installedAs ? { ...a, installedAs } : a;
        });
        artifacts.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
        return { provider: name, type, artifacts };
      } catch (e) {
        const err = e as { code?: string; message?: string };
        return {
          provider: name,
          type,
          artifacts: [],
          error: {
            code: String(err.code ?? 'PLUGIN_PROVIDER_FAILED'),
            message: redactor.redact(String(err.message)),
          },
        };
      }
    }),
  );
}
