/**
 * Shared by the DAG tests: a project's jobs as DagJobSources (loaded the way `optimus job graph`
 * loads them), DAG files written as they are published (`dags/__lib.py`, `dags/<ns>/<job>.py`), and
 * those files executed by python3 against the recording Airflow stand-in.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type DagJobSource,
  type DagUpstream,
  DEFAULT_BASE_IMAGE,
  DEFAULT_REGISTRY,
  dagPath,
  libPath,
} from '../../../src/scheduler/airflow/contract.js';
import { compileDag, dagJobOf } from '../../../src/scheduler/airflow/dag-compiler.js';
import { libPy } from '../../../src/scheduler/airflow/lib-py.js';
import { validateProject } from '../../../src/services/validate-project.js';

export const STUB = join(import.meta.dirname, '../../fixtures/airflow-stub');
export const GOLDENS = join(import.meta.dirname, '../../fixtures/dags');
export const HOST = 'http://optimus.example:9100';

/** Every valid job of the project at `dir`, with its static upstream jobs resolved in the project. */
export function projectSources(dir: string, pluginsDir?: string): DagJobSource[] {
  const report = validateProject({ dir, ...(pluginsDir ? { pluginsDir } : {}) });
  if (!report.config) throw new Error(`no project at ${dir}: ${JSON.stringify(report.problems)}`);
  const project = report.config.project.name;
  const namespaceOf = new Map(report.jobs.map((j) => [j.name, j.namespace]));
  const sources: DagJobSource[] = [];
  for (const job of report.jobs) {
    const errors = job.problems.filter((p) => p.severity === 'error');
    if (errors.length || !job.spec || !job.nodes.length)
      throw new Error(`job ${job.name} is not valid: ${JSON.stringify(errors)}`);
    const upstreams: DagUpstream[] = [];
    for (const d of job.spec.dependencies ?? []) {
      if (!d.job) continue;
      const ns = namespaceOf.get(d.job);
      if (ns) upstreams.push({ project, namespace: ns, job: d.job });
    }
    sources.push({
      project,
      namespace: job.namespace,
      spec: job.spec,
      nodes: job.nodes,
      plugins: report.plugins.plugins,
      images: { baseImage: DEFAULT_BASE_IMAGE, registry: DEFAULT_REGISTRY },
      upstreams,
    });
  }
  return sources;
}

/** Compile every source into `root` as published; returns the DAG folder and each job's file. */
export function writeDags(
  root: string,
  sources: readonly DagJobSource[],
): { dagsDir: string; files: Map<string, string> } {
  const write = (rel: string, text: string) => {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
    return p;
  };
  const lib = write(libPath(), libPy());
  const files = new Map<string, string>();
  for (const s of sources)
    files.set(
      s.spec.name,
      write(dagPath(s.namespace, s.spec.name), compileDag(dagJobOf(s), { optimusHost: HOST })),
    );
  return { dagsDir: dirname(lib), files };
}

export interface RecordedTask {
  task_id: string;
  class: string;
  trigger_rule: string;
  // biome-ignore lint/suspicious/noExplicitAny: the stand-in's JSON, read field by field
  args: Record<string, any>;
  pod_args?: Record<string, unknown>;
  instance_type?: string;
  instance_name?: string;
  scheduled_at?: string;
  upstream?: { project: string; namespace: string; job: string };
  url?: string;
  headers?: Record<string, string>;
  params?: Record<string, string>;
  mode?: string;
  env?: Record<string, string>;
}

export interface RecordedDag {
  error?: string;
  doc: string;
  // biome-ignore lint/suspicious/noExplicitAny: the stand-in's JSON, read field by field
  dag: Record<string, any>;
  tasks: RecordedTask[];
  edges: [string, string][];
}

/** Import each DAG file with python3 against the stand-in (one process for all of them). */
export function recordDags(dagsDir: string, files: readonly string[]): Map<string, RecordedDag> {
  const r = spawnSync('python3', [join(STUB, 'record_dags.py'), dagsDir, ...files], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`record_dags.py failed (${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as Record<string, RecordedDag>;
  return new Map(Object.entries(out));
}

/**
 * `python3 -m py_compile` on each file, the bytecode written under `outDir` (never beside the DAGs);
 * the failures' messages, empty when every file compiles.
 */
export function pyCompile(outDir: string, files: readonly string[]): string[] {
  const script = [
    'import os, py_compile, sys',
    'for i, f in enumerate(sys.argv[2:]):',
    '    try:',
    '        py_compile.compile(f, cfile=os.path.join(sys.argv[1], "%d.pyc" % i), doraise=True)',
    '    except py_compile.PyCompileError as e:',
    '        print(e.msg)',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script, outDir, ...files], { encoding: 'utf8' });
  if (r.status !== 0) return [r.stderr];
  return r.stdout.split('\n').filter(Boolean);
}

/** A small seeded PRNG (mulberry32): the generated jobs are the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
