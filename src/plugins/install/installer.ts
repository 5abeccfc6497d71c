/**
 * Install the configured plugins: decide what changed (from the lock and the files on disk, without
 * touching the network), fetch and verify what did, unpack it in a temp directory inside
 * install_location and rename the result into place. A failed, killed or interrupted install never
 * replaces anything; the lock file is written last.
 */
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isOptimusError, OptimusError } from '../../core/errors.js';
import type { ArchiveLimits } from './archive.js';
import type { PluginEntry, PluginsSection } from './config.js';
import { recordable } from './config-cache.js';
import { acquireLocationLock } from './location-lock.js';
import {
  type ConfigRecord,
  type LockEntry,
  type LockedFile,
  type LockFile,
  openStateCache,
  readLock,
  STATE_FILE,
  type StateCache,
  sameLock,
  writeLock,
} from './lock.js';
import { LOCK_FILE_NAME } from './lock-name.js';
import { createProviderSet, type HttpTuning, type ProviderSet, sourceOf } from './providers/index.js';
import { DEFAULT_MAX_ARTIFACT_BYTES, formatSeconds } from './providers/provider.js';
import { createRedactor, type Redactor } from './secrets.js';

export interface InstallEvents {
  onStart?(name: string, source: string): void;
  onProgress?(name: string, received: number, total: number | undefined): void;
  onDone?(result: PluginResult): void;
  onWaitForLock?(pid: number): void;
}

export interface InstallOptions {
  /** Only these plugins (default: every plugin in the config). */
  names?: string[];
  /** Fail when the config and the lock disagree instead of updating the lock (CI). */
  frozen?: boolean;
  /** Reinstall even when up to date, and re-pin the lock to what is downloaded. */
  force?: boolean;
  concurrency?: number;
  maxArtifactBytes?: number;
  archiveLimits?: ArchiveLimits;
  handshakeTimeoutMs?: number;
  http?: HttpTuning;
  env?: NodeJS.ProcessEnv;
  lockFile?: string;
  events?: InstallEvents;
  signal?: AbortSignal;
  lockWaitMs?: number;
  /** No bytes for this long fails a download attempt (default: the config's, else 30 s). */
  stallTimeoutMs?: number;
  /** The longest one plugin's download may take, retries included (default: the config's, else 10 min). */
  deadlineMs?: number;
  /**
   * The config file's sha256 when `section` is the result of validating exactly those bytes without
   * any problem: kept in the state file (with the section, unless a provider holds a literal
   * credential) so that the next run with the same bytes can skip loading the validator (see
   * config-cache.ts).
   */
  configSha256?: string;
}

export type PluginStatus = 'installed' | 'updated' | 'unchanged' | 'failed';

export interface PluginResult {
  name: string;
  status: PluginStatus;
  source: string;
  kind?: LockEntry['kind'];
  version?: string;
  dialect?: string;
  sha256?: string;
  bytes?: number;
  warnings: string[];
  error?: { code: string; message: string; hint?: string };
}

export interface InstallReport {
  ok: boolean;
  installLocation: string;
  lockFile: string;
  lockWritten: boolean;
  /** Whether any artifact was fetched (false when everything was up to date). */
  fetched: boolean;
  results: PluginResult[];
}

const TMP_PREFIX = '.optimus-tmp-';
const DEFAULT_STALL_MS = 30_000;
const DEFAULT_DEADLINE_MS = 600_000;

export function lockFileOf(section: PluginsSection): string {
  return join(section.configDir, LOCK_FILE_NAME);
}

/** Where a plugin's spec is stored in install_location. */
export function specFileName(name: string): string {
  return `optimus-plugin-${name}.yaml`;
}

export async function installPlugins(
  section: PluginsSection,
  opts: InstallOptions = {},
): Promise<InstallReport> {
  const lockPath = opts.lockFile ?? lockFileOf(section);
  const entries = selectEntries(section, opts.names);
  // Created by this run: removed again when the run fails and leaves it empty.
  const created = await mkdir(section.installLocation, { recursive: true });
  let succeeded = false;
  const locationLock = await acquireLocationLock(section.installLocation, {
    ...(opts.lockWaitMs !== undefined ? { waitMs: opts.lockWaitMs } : {}),
    ...(opts.events?.onWaitForLock ? { onWait: opts.events.onWaitForLock } : {}),
  }).catch(async (e: unknown) => {
    // Stryker disable next-line ConditionalExpression: a location it did not create holds the other run's lock, so rmdir fails anyway.
    if (created) await rmdir(section.installLocation).catch(() => {});
    throw e;
  });
  // One listener on the caller's signal, however many downloads run: each download listens to its
  // own signal (an http request, its pipeline and its retry wait each add a listener).
  const running = new Set<AbortController>();
  const onAbort = () => {
    // Stryker disable next-line OptionalChaining: only ever called by opts.signal.
    for (const c of running) c.abort(opts.signal?.reason);
  };
  opts.signal?.addEventListener('abort', onAbort);
  try {
    await removeStaleTemps(section.installLocation);
    const lock = (await readLock(lockPath)) ?? { plugins: [] };
    const locked = new Map(lock.plugins.map((p) => [p.name, p]));
    if (opts.frozen) checkFrozen(section, entries, locked, lockPath, !opts.names?.length);

    // --force never asks the cache whether a file is current (see installedState).
    const cache = await openStateCache(section.installLocation, { trust: true });
    if (opts.configSha256 && recordable(section)) {
      const record: ConfigRecord = { file: section.file, sha256: opts.configSha256, section };
      cache.setConfig(record);
    }
    const redactor = createRedactor();
    let providers: ProviderSet | undefined;
    const providerSet = () => {
      providers ??= createProviderSet(section, {
        env: opts.env ?? process.env,
        redactor,
        ...(opts.http ? { http: opts.http } : {}),
      });
      return providers;
    };

    const results = new Map<string, PluginResult>();
    const newEntries = new Map<string, LockEntry>();
    const todo: PluginEntry[] = [];
    // Stat (or hash) the installed files of every plugin at once: the answers come from the thread pool.
    const states = await Promise.all(
      entries.map((entry) => {
        const prev = locked.get(entry.name);
        return prev
          ? installedState(entry, prev, cache, section.installLocation, !!opts.force)
          : ('absent' as const);
      }),
    );
    /** Whether files of the plugin were there before this run: what it does is then an update. */
    const wasInstalled = new Map(entries.map((e, i) => [e.name, states[i] !== 'absent']));
    for (const [i, entry] of entries.entries()) {
      const prev = locked.get(entry.name);
      if (prev && states[i] === 'current') {
        results.set(entry.name, resultOf(prev, 'unchanged'));
        newEntries.set(entry.name, prev);
      } else todo.push(entry);
    }

    const { default: pLimit } = todo.length
      ? await import('p-limit')
      : // Stryker disable next-line ArrowFunction: with nothing to do, the limiter is never called.
        { default: () => (fn: () => Promise<void>) => fn() };
    const limit = pLimit(Math.max(1, opts.concurrency ?? 8));
    await Promise.all(
      todo.map((entry) =>
        limit(async () => {
          const source = sourceOf(entry);
          opts.events?.onStart?.(entry.name, source);
          const prev = locked.get(entry.name);
          let result: PluginResult;
          const own = new AbortController();
          running.add(own);
          if (opts.signal?.aborted) own.abort(opts.signal.reason);
          try {
            const pinned = prev && prev.source === source && !opts.force ? prev.sha256 : undefined;
            const next = await installOne(entry, section, {
              providers: providerSet(),
              redactor,
              cache,
              prev,
              pinned,
              opts,
              signal: own,
            });
            newEntries.set(entry.name, next.entry);
            result = {
              ...resultOf(next.entry, wasInstalled.get(entry.name) ? 'updated' : 'installed'),
              bytes: next.bytes,
              warnings: next.warnings,
            };
          } catch (e) {
            // Stryker disable next-line ConditionalExpression: the configured plugins' old entries are kept below too; this says it here.
            if (prev) newEntries.set(entry.name, prev);
            result = {
              name: entry.name,
              status: 'failed',
              source,
              warnings: [],
              error: errorJson(e, redactor),
            };
            // Stryker disable next-line BlockStatement: a finished download's controller may be aborted harmlessly.
          } finally {
            running.delete(own);
          }
          results.set(entry.name, result);
          opts.events?.onDone?.(result);
        }),
      ),
    );

    // Plugins outside this run keep their lock entries; plugins gone from the config leave the lock.
    const inConfig = new Set(section.list.map((e) => e.name));
    for (const p of lock.plugins) {
      if (!newEntries.has(p.name) && inConfig.has(p.name)) newEntries.set(p.name, p);
    }
    const nextLock: LockFile = { plugins: [...newEntries.values()] };
    let lockWritten = false;
    if (!opts.frozen && !sameLock(nextLock, lock)) {
      await writeLock(lockPath, nextLock);
      lockWritten = true;
    }
    await cache.save();
    const ordered = entries.map((e) => results.get(e.name)!);
    succeeded = ordered.every((r) => r.status !== 'failed');
    return {
      ok: succeeded,
      installLocation: section.installLocation,
      lockFile: lockPath,
      lockWritten,
      fetched: todo.length > 0,
      results: ordered,
    };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await locationLock.release();
    if (created && !succeeded) await removeIfUnused(section.installLocation);
  }
}

function selectEntries(section: PluginsSection, names: string[] | undefined): PluginEntry[] {
  if (!names?.length) return section.list;
  const byName = new Map(section.list.map((e) => [e.name, e]));
  const unknown = names.filter((n) => !byName.has(n));
  if (unknown.length) {
    throw new OptimusError(
      'PLUGIN_NOT_CONFIGURED',
      `not in the plugins list of ${section.file}: ${unknown.join(', ')}`,
      {
        category: 'usage',
        hint: section.list.length
          ? `configured: ${section.list.map((e) => e.name).join(', ')}`
          : 'add it under plugins.list',
      },
    );
  }
  return [...new Set(names)].map((n) => byName.get(n)!);
}

/** Differences between the config and the lock, one line each; empty when they agree. */
export function lockDisagreements(
  entries: PluginEntry[],
  locked: Map<string, LockEntry>,
  allOfConfig: boolean,
  section: PluginsSection,
): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const l = locked.get(e.name);
    const source = sourceOf(e);
    if (!l) out.push(`${e.name}: in the config but not in the lock`);
    else if (l.source !== source)
      out.push(`${e.name}: source is ${source} in the config, ${l.source} in the lock`);
    else if (e.sha256 && e.sha256 !== l.sha256)
      out.push(`${e.name}: sha256 in the config differs from the lock`);
  }
  if (allOfConfig) {
    const names = new Set(section.list.map((e) => e.name));
    for (const name of locked.keys())
      if (!names.has(name)) out.push(`${name}: in the lock but not in the config`);
  }
  return out;
}

function checkFrozen(
  section: PluginsSection,
  entries: PluginEntry[],
  locked: Map<string, LockEntry>,
  lockPath: string,
  all: boolean,
) {
  const diffs = lockDisagreements(entries, locked, all, section);
  if (diffs.length) {
    throw new OptimusError(
      'PLUGIN_LOCK_MISMATCH',
      `the config and ${lockPath} disagree (--frozen):\n  ${diffs.join('\n  ')}`,
      {
        category: 'conflict',
        hint: 'run `optimus plugin install` without --frozen and commit plugins.lock.yaml',
      },
    );
  }
}

/**
 * `current`: the lock matches the config and the files match the lock (nothing to do); `stale`: some
 * of its files are there, so installing it is an update; `absent`: none are (a first install).
 */
async function installedState(
  entry: PluginEntry,
  prev: LockEntry,
  cache: StateCache,
  installLocation: string,
  force: boolean,
): Promise<'current' | 'stale' | 'absent'> {
  if (force || prev.source !== sourceOf(entry) || (entry.sha256 && entry.sha256 !== prev.sha256)) {
    // Reinstalled whatever its files hold: whether any is there is all that matters (no hashing).
    const found = await Promise.all(
      prev.files.map((f) =>
        stat(join(installLocation, f.path)).then(
          () => true,
          // Stryker disable next-line ArrowFunction: undefined is not true either.
          () => false,
        ),
      ),
    );
    return found.includes(true) ? 'stale' : 'absent';
  }
  const checks = await Promise.all(prev.files.map((f) => cache.check(f.path, f.sha256)));
  if (checks.every((c) => c === 'ok')) return 'current';
  return checks.every((c) => c === 'missing') ? 'absent' : 'stale';
}

function resultOf(e: LockEntry, status: PluginStatus): PluginResult {
  return {
    name: e.name,
    status,
    source: e.source,
    kind: e.kind,
    version: e.version,
    dialect: e.dialect,
    sha256: e.sha256,
    warnings: [],
  };
}

function errorJson(e: unknown, redactor: Redactor): PluginResult['error'] {
  if (isOptimusError(e)) {
    const out: NonNullable<PluginResult['error']> = { code: e.code, message: redactor.redact(e.message) };
    if (e.hint) out.hint = redactor.redact(e.hint);
    return out;
  }
  const err = e as NodeJS.ErrnoException;
  if (err?.name === 'AbortError') return { code: 'PLUGIN_INSTALL_ABORTED', message: 'interrupted' };
  return {
    code: err?.code ? `PLUGIN_IO_${err.code}` : 'PLUGIN_INSTALL_FAILED',
    message: redactor.redact(String(err?.message ?? e)),
  };
}

/** Remove an install location that holds no plugin (at most the installer's own state file). */
async function removeIfUnused(dir: string): Promise<void> {
  const names = await readdir(dir);
  if (names.some((n) => n !== STATE_FILE)) return;
  await rm(join(dir, STATE_FILE), { force: true });
  await rmdir(dir).catch(() => {});
}

async function removeStaleTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    // Stryker disable next-line BooleanLiteral: the directory was just listed; force only matters for a missing one.
    if (name.startsWith(TMP_PREFIX)) await rm(join(dir, name), { recursive: true, force: true });
  }
}

async function installOne(
  entry: PluginEntry,
  section: PluginsSection,
  ctx: {
    providers: ProviderSet;
    redactor: Redactor;
    cache: StateCache;
    prev: LockEntry | undefined;
    pinned: string | undefined;
    opts: InstallOptions;
    /** This plugin's own: aborted with the run, or when its download passes the deadline. */
    signal: AbortController;
  },
): Promise<{ entry: LockEntry; bytes: number; warnings: string[] }> {
  const { opts } = ctx;
  const source = sourceOf(entry);
  const tmp = await mkdtemp(join(section.installLocation, TMP_PREFIX));
  try {
    const { provider, ref } = await ctx.providers.forEntry(entry);
    const artifact = join(tmp, 'artifact');
    const unpackDir = join(tmp, 'x');
    const { ArtifactSink, DEFAULT_ARCHIVE_LIMITS } = await import('./archive.js');
    const limits = opts.archiveLimits ?? DEFAULT_ARCHIVE_LIMITS;
    let sink: InstanceType<typeof ArtifactSink> | undefined;
    const deadlineMs = opts.deadlineMs ?? section.download?.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const overdue = new OptimusError(
      'PLUGIN_DOWNLOAD_TIMEOUT',
      `${entry.name}: downloading ${source} took longer than ${formatSeconds(deadlineMs)}`,
      {
        category: 'io',
        hint: 'check the server; for a large artifact on a slow link raise plugins.download.deadline_seconds',
      },
    );
    const timer = setTimeout(() => ctx.signal.abort(overdue), deadlineMs);
    let fetched: Awaited<ReturnType<typeof provider.fetch>>;
    try {
      fetched = await provider.fetch(ref, artifact, {
        maxBytes: opts.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES,
        signal: ctx.signal.signal,
        stallMs: opts.stallTimeoutMs ?? section.download?.stallTimeoutMs ?? DEFAULT_STALL_MS,
        onProgress: (received, total) => opts.events?.onProgress?.(entry.name, received, total),
        sink: () => {
          // A retry starts from scratch.
          rmSync(unpackDir, { recursive: true, force: true });
          sink = new ArtifactSink(artifact, unpackDir, source, limits);
          return sink;
        },
      });
    } catch (e) {
      if (ctx.signal.signal.reason === overdue) throw overdue;
      if (isOptimusError(e) && e.code === 'PLUGIN_DOWNLOAD_STALLED')
        throw new OptimusError(e.code, `${entry.name}: ${e.message}`, {
          category: e.category,
          ...(e.hint ? { hint: e.hint } : {}),
        });
      throw e;
    } finally {
      clearTimeout(timer);
    }
    const expected = entry.sha256 ?? ctx.pinned;
    if (expected && expected !== fetched.sha256) {
      const from = entry.sha256
        ? `the config (${entry.at.file}:${entry.at.line ?? '?'})`
        : 'plugins.lock.yaml';
      throw new OptimusError(
        'PLUGIN_CHECKSUM_MISMATCH',
        `${entry.name}: ${source} has sha256 ${fetched.sha256}, ${from} expects ${expected}`,
        {
          // Stryker disable next-line StringLiteral: a plugin's error is reported by code, message and hint; the category shows nowhere.
          category: 'conflict',
          hint: entry.sha256
            ? 'the artifact changed or is corrupt; if the new one is trusted, update sha256 in the config'
            : 'the artifact changed since it was locked; if the new one is trusted, run `optimus plugin install --force <name>`',
        },
      );
    }
    // Unpacking and validation code (tar, yauzl, the spec schemas) loads only when something is installed.
    const { stage } = await import('./stage.js');
    const staged = await stage(entry, artifact, join(tmp, 'out'), unpackDir, source, opts, {
      sha256: fetched.sha256,
      // Every provider writes through the sink: it is always set here.
      // Stryker disable next-line OptionalChaining: see above.
      unpacked: sink?.streamed === 'tar',
      // Stryker disable next-line OptionalChaining: see above.
      fileHashes: sink?.fileHashes,
    });
    const files: LockedFile[] = [];
    for (const [name, f] of staged.files) files.push({ path: name, sha256: f.sha256 });
    // Executable first, spec second: each rename is atomic, and the lock (written last) only
    // points at the new files once all of them are in place.
    for (const [name, f] of staged.files) await rename(f.path, join(section.installLocation, name));
    for (const old of ctx.prev?.files ?? []) {
      if (!staged.files.has(old.path)) {
        await rm(join(section.installLocation, old.path), { force: true });
        ctx.cache.forget(old.path);
      }
    }
    for (const f of files) await ctx.cache.record(f.path, f.sha256);
    return {
      entry: {
        name: entry.name,
        source,
        sha256: fetched.sha256,
        kind: staged.kind,
        version: staged.version,
        dialect: staged.dialect,
        files,
      },
      bytes: fetched.bytes,
      warnings: staged.warnings,
    };
  } finally {
    // Retried, as a process this run started (a handshake) may still be letting go of a file. Should
    // it still fail, the error that stopped the install is the one to report, and the next run
    // removes the leftover (removeStaleTemps).
    // Stryker disable next-line BooleanLiteral: the temp directory always exists here.
    await rm(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }).catch(() => {});
  }
}
