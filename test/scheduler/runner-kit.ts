/**
 * A runner on a real store with real child processes, for the runner tests: one generic plugin,
 * `shell`, whose entrypoint evaluates the node's SCRIPT config, so each test writes its nodes as
 * shell; a legacy v1 plugin without entrypoint; jobs deployed through the deploy service (so the
 * run graph is the one a server computes).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createRunner, type Runner, type RunnerOptions } from '../../src/scheduler/runner.js';
import { loadPluginRegistry, type PluginRegistry } from '../../src/server/plugin-registry.js';
import { deployNamespace } from '../../src/services/deploy.js';
import { createSecretCipher, type SecretCipher } from '../../src/services/secret-cipher.js';
import type { RunRecord } from '../../src/store/run-store.js';
import type { Store } from '../../src/store/store.js';

export const APP_KEY = 'r'.repeat(32);

export const PLUGIN_FILES: Record<string, string> = {
  'shell.yaml': `version: 3
name: shell
plugin_versions:
  default: {image: docker.io/acme/shell, tag: "1.0.0", entrypoint: {shell: /bin/sh, script: 'eval "$SCRIPT"'}}
configs:
  - {name: SCRIPT, required: true}
`,
  'legacy.yaml': `name: legacy
plugintype: hook
pluginversion: 0.1.0
image: docker.io/acme/legacy:0.1.0
`,
};

export interface Kit {
  store: Store;
  plugins: PluginRegistry;
  cipher: SecretCipher;
  /** A temp dir removed by close(). */
  dir: string;
  close(): Promise<void>;
}

export async function openKit(store: Store): Promise<Kit> {
  const dir = mkdtempSync(join(tmpdir(), 'optimus-runner-'));
  const pluginDir = join(dir, 'plugins');
  mkdirSync(pluginDir);
  for (const [name, text] of Object.entries(PLUGIN_FILES)) writeFileSync(join(pluginDir, name), text);
  const plugins = await loadPluginRegistry(pluginDir);
  return {
    store,
    plugins,
    cipher: createSecretCipher(APP_KEY),
    dir,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface NodeSpec {
  name: string;
  stage?: 'pre' | 'post' | 'fail';
  script: string;
  type?: string;
  depends_on?: string[];
  config?: Record<string, string>;
}

/** A job whose task and hooks run shell; `extra` adds or overrides top-level job.yaml fields. */
export function shellJob(
  name: string,
  task: string,
  hooks: NodeSpec[] = [],
  extra: Record<string, unknown> = {},
) {
  return {
    version: 3,
    name,
    owner: 'team@acme.example',
    // Far in the future: the scheduler creates no run of its own, tests trigger them.
    schedule: { start_date: '2099-01-01', interval: '0 0 * * *' },
    behavior: {},
    task: { name: 'shell', config: { SCRIPT: task } },
    hooks: hooks.map((h) => ({
      name: h.name,
      type: h.type ?? 'shell',
      ...(h.stage ? { stage: h.stage } : {}),
      ...(h.depends_on ? { depends_on: h.depends_on } : {}),
      config: h.type === 'legacy' ? (h.config ?? {}) : { SCRIPT: h.script, ...h.config },
    })),
    ...extra,
  };
}

/** Registers the project and namespace and deploys `jobs` as the namespace's whole state. */
export async function deployJobs(
  kit: Kit,
  project: string,
  jobs: unknown[],
  namespace = 'ns',
): Promise<void> {
  const p = await kit.store.upsertProject({ name: project, config: {}, pluginDependencies: [] });
  await kit.store.upsertNamespace({ projectName: project, name: namespace, config: {} });
  await deployNamespace(
    { store: kit.store, plugins: kit.plugins.current().plugins },
    { project: p, namespace, jobs },
  );
}

export function startRunner(kit: Kit, over: Partial<RunnerOptions> = {}): Runner {
  return createRunner({
    store: kit.store,
    plugins: kit.plugins,
    cipher: kit.cipher,
    config: {
      type: 'local',
      executor: 'process',
      concurrency: 8,
      nodeTimeoutMs: 60_000,
      docker: { network: 'none' },
    },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    pollMs: 50,
    schedulePassMs: 0,
    ...over,
  });
}

/** Polls the run until `done` says so (default: finished and no node still running). */
export async function waitForRun(
  store: Store,
  id: number,
  done: (run: RunRecord) => boolean = (r) =>
    ['succeeded', 'failed', 'cancelled'].includes(r.status) && !r.nodes.some((n) => n.status === 'running'),
): Promise<RunRecord> {
  let last: RunRecord | undefined;
  await expect
    .poll(
      async () => {
        last = await store.getRun(id);
        return last !== undefined && done(last);
      },
      { timeout: 60_000, interval: 50 },
    )
    .toBe(true);
  return last!;
}

export const nodeStatus = (run: RunRecord) => Object.fromEntries(run.nodes.map((n) => [n.name, n.status]));

/** Every stored line of a node (all attempts), as `attempt stream line`. */
export async function logsOf(store: Store, runId: number, node: string): Promise<string[]> {
  const lines = await store.readLogs(runId, { node, limit: 10_000 });
  return lines.map((l) => `${l.attempt} ${l.stream} ${l.line}`);
}

/** Alive and not a zombie waiting to be reaped. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
