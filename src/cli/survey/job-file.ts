/**
 * Writing job.yaml: a new file for `job create`, and one more hook for `job addhook` edited through
 * the `yaml` Document API, so the user's comments and layout survive (only the new hook is added).
 */
import { Document, isMap, isScalar, isSeq, type Node, parseDocument } from 'yaml';
import { OptimusError } from '../../core/errors.js';
import type { Placeholder } from './plugin-config.js';

/** Keeps `{a: b}` flow maps as users write them and never folds long values. */
const TO_STRING = { lineWidth: 0, flowCollectionPadding: false } as const;

export interface NewJob {
  name: string;
  owner: string;
  startDate: string;
  interval: string;
  task: string;
  config: Record<string, string>;
  window: { size: string; truncate_to: string };
  placeholders: Placeholder[];
}

export function newJobYaml(job: NewJob): string {
  const doc = new Document({
    version: 3,
    name: job.name,
    owner: job.owner,
    schedule: { start_date: job.startDate, interval: job.interval },
    behavior: { depends_on_past: false },
    task: { name: job.task, config: job.config, window: job.window },
    hooks: [],
    dependencies: [],
    labels: { orchestrator: 'optimus' },
  });
  // A date must stay text for every YAML reader (YAML 1.1 readers would make it a timestamp).
  const start = doc.getIn(['schedule', 'start_date'], true);
  if (isScalar(start)) start.type = 'QUOTE_DOUBLE';
  markPlaceholders(doc.getIn(['task', 'config'], true) as Node | undefined, job.placeholders);
  if (job.placeholders.length) {
    doc.commentBefore = ` Fill in the configs marked TODO, then check with: optimus job validate ${job.name}`;
  }
  return doc.toString(TO_STRING);
}

export interface NewHook {
  name: string;
  type?: string;
  stage: string;
  depends_on?: string[];
  config: Record<string, string>;
  placeholders: Placeholder[];
}

/** job.yaml text with one more hook; everything else as it was. */
export function addHookToYaml(text: string, file: string, hook: NewHook): string {
  const doc = parseDocument(text);
  if (doc.errors.length) {
    throw new OptimusError('JOB_INVALID', `${file} is not valid YAML: ${doc.errors[0]!.message}`, {
      hint: 'fix it first (optimus job validate shows where)',
    });
  }
  if (!isMap(doc.contents)) {
    throw new OptimusError('JOB_INVALID', `${file} is not a YAML mapping`, { hint: 'fix it first' });
  }
  const entry: Record<string, unknown> = { name: hook.name };
  if (hook.type !== undefined) entry.type = hook.type;
  entry.stage = hook.stage;
  if (hook.depends_on?.length) entry.depends_on = hook.depends_on;
  entry.config = hook.config;
  const node = doc.createNode(entry);
  if (isMap(node)) {
    const deps = node.get('depends_on', true);
    if (isSeq(deps)) deps.flow = true;
  }

  let hooks = doc.get('hooks', true);
  if (hooks === undefined || (isScalar(hooks) && hooks.value === null)) {
    const seq = doc.createNode([]);
    seq.flow = false;
    if (doc.has('hooks')) doc.set('hooks', seq);
    else {
      // Beside the task, where a reader looks for hooks, rather than at the end of the file.
      const items = doc.contents.items;
      const at = items.findIndex((p) => isScalar(p.key) && p.key.value === 'task');
      items.splice(
        at === -1 ? items.length : at + 1,
        0,
        doc.createPair('hooks', seq) as (typeof items)[number],
      );
    }
    hooks = seq;
  }
  if (!isSeq(hooks)) {
    throw new OptimusError('JOB_INVALID', `${file}: hooks must be a list`, { hint: 'fix it first' });
  }
  // `hooks: []` as job create writes it becomes a block list once it has an entry.
  if (hooks.flow && hooks.items.length === 0) hooks.flow = false;
  hooks.items.push(node);
  if (isMap(node)) markPlaceholders(node.get('config', true) as Node | undefined, hook.placeholders);
  return doc.toString(TO_STRING);
}

function markPlaceholders(config: Node | undefined, placeholders: Placeholder[]): void {
  if (!isMap(config)) return;
  for (const p of placeholders) {
    const value = config.get(p.key, true);
    if (isScalar(value)) value.comment = ` TODO: ${p.description}`;
  }
}
