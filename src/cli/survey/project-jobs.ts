/** The project's jobs on disk, by name: for unique names in `job create` and finding `addhook`'s job. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { JobSpec } from '../../core/job.js';
import { loadProjectJobs } from '../../services/validate-project.js';
import type { ProjectConfig } from '../../spec/project-config.js';

export interface JobOnDisk {
  name: string;
  namespace: string;
  dir: string;
  file: string;
  /** The spec after inheritance, when it loads. */
  spec?: JobSpec;
}

export function projectJobs(config: ProjectConfig): JobOnDisk[] {
  const out: JobOnDisk[] = [];
  for (const { namespace, loaded } of loadProjectJobs(config)) {
    // A job that does not load still owns its name, as long as job.yaml says one.
    const name = loaded.spec?.name ?? nameIn(loaded.file);
    if (!name) continue;
    out.push({
      name,
      namespace,
      dir: loaded.dir,
      file: loaded.file,
      ...(loaded.spec ? { spec: loaded.spec } : {}),
    });
  }
  return out;
}

function nameIn(file: string): string | undefined {
  try {
    const v = parse(readFileSync(file, 'utf8')) as { name?: unknown } | null;
    return typeof v?.name === 'string' ? v.name : undefined;
  } catch {
    return undefined;
  }
}
