/**
 * The Inferrer (services/lineage-contract.ts): where each job writes and what it reads, from its
 * task plugin only (a resolver is task-only): a binary plugin with the dependency-resolver mod is
 * asked through the mod host; a YAML plugin with `destination_urn_template`/`asset_parsers` is
 * evaluated here; any other plugin infers nothing.
 *
 * The mod sees the task config and assets rendered as they would be for the job's first window
 * (the window of `schedule.start_date` at 00:00 UTC), so the same content always infers the same.
 * A config that reads a secret is rendered and passed only when the plugin declares it with
 * `for_mods: true`; others are left out. Secret values are masked in everything this returns or
 * logs.
 */
import { createHash, hash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { canonicalJson, contentHash } from '../core/canonical-json.js';
import { effectiveConfig } from '../core/configs.js';
import type { JobSpec } from '../core/job.js';
import { isTaskOnly } from '../core/plugin.js';
import type { Problem } from '../core/problem.js';
import { WindowError } from '../core/window-compute.js';
import { inferDeclarative, isDeclarative } from '../plugins/mods/declarative.js';
import {
  createModHost,
  type ModHost,
  type ModHostOptions,
  type ModRequest,
} from '../plugins/mods/mod-host.js';
import { secretMasker } from '../scheduler/log-capture.js';
import type { ServedPlugin } from '../server/plugin-registry.js';
import type { JobLineage } from '../store/lineage-store.js';
import type { ProjectRecord, Store } from '../store/store.js';
import type { InferRequest, InferResult, Inferrer } from './lineage-contract.js';
import { RunInputError, renderNodeInput } from './run-input.js';
import type { SecretCipher } from './secret-cipher.js';

type Presets = ProjectRecord['windowPresets'];
type ServedLookup = { get(name: string): ServedPlugin | undefined };

export interface InferrerOptions {
  /** The served plugins: a registry (its current set is read once per `infer`) or one set. */
  plugins: ServedLookup | { current(): ServedLookup };
  store: Pick<Store, 'secretsVisibleTo' | 'getProject'>;
  cipher: SecretCipher;
  logger?: Pick<Logger, 'info' | 'warn'>;
  /** Options of the mod host started for binary plugins (pool size, deadlines, …). */
  modHost?: Omit<ModHostOptions, 'logger'>;
}

const URN = /^[a-z][a-z0-9+.-]*:\/\/\S+$/;

/** What one job's rendering gives a mod, or why it failed. */
interface RenderedJob {
  kind: 'binary' | 'declarative' | 'none';
  served?: ServedPlugin;
  config: Record<string, string>;
  /** The config without secrets: what a declarative template may read. */
  plainConfig: Record<string, string>;
  assets: Record<string, string>;
  secrets: string[];
  /** Problems met while rendering that did not stop inference. */
  warnings: string[];
}
type Prepared = RenderedJob | { kind: 'failed'; problem: Problem };

export function createInferrer(opts: InferrerOptions): Inferrer {
  const lookup = (): ServedLookup => ('current' in opts.plugins ? opts.plugins.current() : opts.plugins);
  const hashes = new Map<string, string>();
  let host: ModHost | undefined;

  /** The executable's sha256, computed once per file identity (a reinstall changes it). */
  const executableHash = (file: string): string => {
    let id: string;
    try {
      const st = statSync(file);
      id = `${file}\0${st.size}\0${st.mtimeMs}\0${st.ino}`;
    } catch {
      return 'unreadable';
    }
    let h = hashes.get(id);
    if (!h) {
      h = createHash('sha256').update(readFileSync(file)).digest('hex');
      hashes.set(id, h);
    }
    return h;
  };

  // Hashed once per served plugin (a registry set never changes; a reload makes new objects).
  const specHashes = new WeakMap<ServedPlugin, string>();
  const fingerprint = (served: ServedPlugin | undefined, name: string): unknown => {
    if (!served) return { missing: name };
    let spec = specHashes.get(served);
    if (!spec) {
      const { source: _source, ...rest } = served.plugin;
      spec = contentHash(rest);
      specHashes.set(served, spec);
    }
    return served.kind === 'binary' ? { spec, executable: executableHash(served.file) } : { spec };
  };

  const keyer = (
    projectConfig: Record<string, string>,
    namespaceConfig: Record<string, string>,
  ): ((taskName: string, hash: string) => string) => {
    // The key is contentHash({hash, namespace, plugin, project}); canonical JSON writes those keys
    // in that order, so everything after the hash is written once per task plugin, not per job.
    const set = lookup();
    const tails = new Map<string, string>();
    const namespace = canonicalJson(namespaceConfig);
    const project = canonicalJson(projectConfig);
    return (taskName, jobHash) => {
      let tail = tails.get(taskName);
      if (tail === undefined) {
        const plugin = canonicalJson(fingerprint(set.get(taskName), taskName));
        tail = `,"namespace":${namespace},"plugin":${plugin},"project":${project}}`;
        tails.set(taskName, tail);
      }
      return hash('sha256', `{"hash":${canonicalJson(jobHash)}${tail}`, 'hex');
    };
  };

  return {
    key(req) {
      return keyer(req.projectConfig, req.namespaceConfig)(req.spec.task.name, req.hash);
    },

    keyer,

    async infer(reqs, o = {}) {
      const set = lookup();
      const out: InferResult[] = new Array(reqs.length);
      let done = 0;
      const finish = (i: number, r: InferResult) => {
        out[i] = r;
        done++;
        o.onProgress?.(done, reqs.length);
      };
      const visible = new Map<string, ReturnType<Store['secretsVisibleTo']>>();
      const presets = new Map<string, Promise<Presets>>();
      const presetsOf = (req: InferRequest) => {
        let p = presets.get(req.projectName);
        if (!p) {
          p = opts.store.getProject(req.projectName).then((r) => r?.windowPresets ?? null);
          presets.set(req.projectName, p);
        }
        return p;
      };
      const secretsOf = (req: InferRequest) => {
        const k = `${req.projectName}\0${req.namespaceName}`;
        let p = visible.get(k);
        if (!p) {
          p = opts.store.secretsVisibleTo(req.projectName, req.namespaceName);
          visible.set(k, p);
        }
        return p;
      };

      const prepared = await Promise.all(
        reqs.map(async (req) =>
          prepare(req, set.get(req.spec.task.name), await secretsOf(req), await presetsOf(req), opts.cipher),
        ),
      );
      const keyOf = (i: number) => this.key(reqs[i]!);
      const byPlugin = new Map<string, number[]>();
      const declarative: number[] = [];
      prepared.forEach((p, i) => {
        if (p.kind === 'failed') finish(i, { ok: false, problem: p.problem });
        else if (p.kind === 'none')
          finish(i, { ok: true, lineage: { key: keyOf(i), destination: null, sources: [], warnings: [] } });
        else if (p.kind === 'declarative') declarative.push(i);
        else {
          const file = p.served!.file;
          const list = byPlugin.get(file);
          if (list) list.push(i);
          else byPlugin.set(file, [i]);
        }
      });

      for (const i of declarative) {
        const p = prepared[i] as RenderedJob;
        const req = reqs[i]!;
        try {
          const r = await inferDeclarative({
            plugin: p.served!.plugin,
            config: p.plainConfig,
            assets: p.assets,
          });
          finish(
            i,
            normalise(
              req,
              p.served!.plugin.name,
              keyOf(i),
              r.destination,
              r.sources,
              [...p.warnings, ...r.warnings],
              p.secrets,
            ),
          );
        } catch (e) {
          const field = (e as { field?: unknown }).field;
          finish(i, {
            ok: false,
            problem: failure(
              req,
              p.served!.plugin.name,
              e,
              typeof field === 'string' ? field : 'task',
              p.secrets,
            ),
          });
        }
      }

      if (byPlugin.size) {
        host ??= createModHost({ ...opts.modHost, ...(opts.logger ? { logger: opts.logger } : {}) });
        const modHost = host;
        await Promise.all(
          [...byPlugin.values()].map(async (indexes) => {
            const first = prepared[indexes[0]!] as RenderedJob;
            const served = first.served!;
            const requests: ModRequest[] = indexes.map((i) => {
              const p = prepared[i] as RenderedJob;
              const req = reqs[i]!;
              return {
                params: {
                  job: {
                    project: req.projectName,
                    namespace: req.namespaceName,
                    name: req.spec.name,
                    labels: req.spec.labels ?? {},
                  },
                  config: p.config,
                  assets: p.assets,
                },
                secrets: p.secrets,
              };
            });
            await modHost.resolve({ name: served.plugin.name, file: served.file }, requests, {
              onResult: (k, r) => {
                const i = indexes[k]!;
                const req = reqs[i]!;
                const p = prepared[i] as RenderedJob;
                if (!r.ok)
                  finish(i, {
                    ok: false,
                    problem: failure(req, served.plugin.name, r.error, 'task', p.secrets),
                  });
                else
                  finish(
                    i,
                    normalise(
                      req,
                      served.plugin.name,
                      keyOf(i),
                      r.destination,
                      r.dependencies,
                      [...p.warnings, ...r.warnings],
                      p.secrets,
                    ),
                  );
              },
            });
          }),
        );
      }
      return out;
    },

    async close() {
      await host?.close();
      host = undefined;
    },
  };
}

/** Renders the task config and assets a job's mod sees; failures become the job's problem. */
function prepare(
  req: InferRequest,
  served: ServedPlugin | undefined,
  visible: Awaited<ReturnType<Store['secretsVisibleTo']>>,
  windowPresets: Presets,
  cipher: SecretCipher,
): Prepared {
  const taskName = req.spec.task.name;
  if (!served)
    return {
      kind: 'failed',
      problem: {
        severity: 'error',
        code: 'LINEAGE_FAILED',
        message: `plugin ${taskName} (the task of job ${req.namespaceName}/${req.spec.name}) is not installed on this server: its lineage cannot be inferred`,
        path: 'task.name',
        hint: 'install the plugin on the server (plugins.list of the server config), then deploy again',
      },
    };
  const plugin = served.plugin;
  const kind =
    served.kind === 'binary' && isTaskOnly(plugin)
      ? 'binary'
      : isDeclarative(plugin)
        ? 'declarative'
        : 'none';
  if (kind === 'none') return { kind, config: {}, plainConfig: {}, assets: {}, secrets: [], warnings: [] };
  const forMods = new Set(plugin.configs.filter((c) => c.forMods).map((c) => c.name));
  const stored = new Map(visible.map((s) => [s.name, s]));
  let rendered: ReturnType<typeof renderNodeInput>;
  const read: string[] = [];
  const warnings: string[] = [];
  const render = (spec: JobSpec) =>
    renderNodeInput({
      projectName: req.projectName,
      job: { name: req.spec.name, namespaceName: req.namespaceName, assets: req.assets, runGraph: null },
      spec,
      projectConfig: req.projectConfig,
      namespaceConfig: req.namespaceConfig,
      windowPresets,
      plugins: new Map([[taskName, plugin]]),
      instanceType: 'task',
      instanceName: taskName,
      scheduledAt: firstWindowAt(req.spec.schedule.start_date),
      // A predicate, not `false`: only the secrets it accepts must be set (a YAML plugin needs none).
      withSecrets: kind === 'binary' ? (k) => forMods.has(k) : () => false,
      secrets: {
        has: (name) => stored.has(name),
        read: (name) => {
          const v = cipher.decrypt(stored.get(name)!.ciphertext).toString('utf8');
          read.push(v);
          return v;
        },
      },
    });
  try {
    try {
      rendered = render(req.spec);
    } catch (e) {
      // The deploy accepts a window it cannot compute yet (a preset the project has not registered):
      // its lineage is inferred with the default window rather than refused.
      if (!(e instanceof WindowError)) throw e;
      const { window: _window, ...task } = req.spec.task;
      rendered = render({ ...req.spec, task });
      warnings.push(
        `the job's window cannot be computed (${e.message}): its config and assets were rendered with the default window`,
      );
    }
  } catch (e) {
    const field = e instanceof RunInputError && e.field ? e.field : 'task';
    return { kind: 'failed', problem: failure(req, plugin.name, e, field, read) };
  }
  const keys = Object.keys(effectiveConfig(plugin, req.spec.task.config));
  const plainConfig: Record<string, string> = {};
  const config: Record<string, string> = {};
  for (const k of keys) {
    if (k in rendered.secrets) config[k] = rendered.secrets[k]!;
    else if (k in rendered.envs) {
      config[k] = rendered.envs[k]!;
      plainConfig[k] = rendered.envs[k]!;
    }
  }
  return {
    kind,
    served,
    config,
    plainConfig,
    assets: rendered.files,
    secrets: [...new Set([...read, ...rendered.maskValues])],
    warnings,
  };
}

/** `schedule.start_date` (YYYY-MM-DD) at 00:00 UTC: the same job content renders the same input. */
function firstWindowAt(startDate: string): Date {
  const d = new Date(`${startDate.slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? new Date(0) : d;
}

function normalise(
  req: InferRequest,
  pluginName: string,
  key: string,
  destination: string | null,
  sources: readonly string[],
  warnings: readonly string[],
  secrets: readonly string[],
): InferResult {
  const mask = secretMasker(secrets).mask;
  const job = `${req.namespaceName}/${req.spec.name}`;
  const invalid = (what: string, value: string): InferResult => ({
    ok: false,
    problem: {
      severity: 'error',
      code: 'LINEAGE_INVALID',
      message: mask(
        `plugin ${pluginName} answered ${what} ${JSON.stringify(value.slice(0, 200))} for job ${job}, which is not a URN such as bigquery://project:dataset.table`,
      ),
      path: 'task',
      hint: `a URN is <scheme>://<name> with a lower-case scheme and no spaces; fix the job's config or ask the plugin's author`,
    },
  });
  if (destination !== null && !URN.test(destination)) return invalid('the destination', destination);
  for (const s of sources) if (!URN.test(s)) return invalid('the source', s);
  const lineage: JobLineage = {
    key,
    destination,
    sources: [...new Set(sources)].filter((s) => s !== destination).sort(),
    warnings: warnings.map(mask),
  };
  return { ok: true, lineage };
}

function failure(
  req: InferRequest,
  pluginName: string,
  e: unknown,
  path: string,
  secrets: readonly string[],
): Problem {
  const mask = secretMasker(secrets).mask;
  const err = e as { message?: unknown; hint?: unknown };
  const message = String(err.message ?? e);
  const named = message.startsWith(`plugin ${pluginName}`)
    ? message
    : `plugin ${pluginName} failed for job ${req.namespaceName}/${req.spec.name}: ${message}`;
  return {
    severity: 'error',
    code: 'LINEAGE_FAILED',
    message: mask(named),
    path,
    hint: mask(
      typeof err.hint === 'string' && err.hint
        ? err.hint
        : 'fix the job or the plugin, then deploy again; `optimus job inspect` shows the job’s lineage',
    ),
  };
}
