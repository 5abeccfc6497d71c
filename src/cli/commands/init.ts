/**
 * `optimus init`: writes optimus.yaml (version, host, project, namespaces with `<ns>/jobs`, the
 * plugins install location) and creates the folders it names, so `optimus job validate` accepts
 * the new project at once. Asks on a terminal; `--project`, `--namespace`, `--host`,
 * `--plugins-dir` (or `--set`/`--answers`) answer without one.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { Document, isMap, type YAMLSeq } from 'yaml';
import { OptimusError } from '../../core/errors.js';
import { PROJECT_CONFIG_FILE } from '../../spec/project-config.js';
import type { CommandContext } from '../command-kit.js';
import { DEFAULT_HOST } from '../context.js';
import { EXIT_OK } from '../errors.js';
import { nextFlags, printJson } from '../output.js';
import { loadAnswers } from '../survey/answers.js';
import { startSurvey } from '../survey/run.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const nameProblem = (v: string) =>
  NAME.test(v)
    ? undefined
    : 'may contain only letters, digits, "_", "-" and "." and must start with a letter or digit';

export async function run({ opts }: CommandContext): Promise<number> {
  const root = resolve(String(opts.dir ?? '.'));
  const file = join(root, PROJECT_CONFIG_FILE);
  if (existsSync(file) && !opts.force) {
    throw new OptimusError('PROJECT_EXISTS', `${relative(process.cwd(), file) || file} already exists`, {
      category: 'conflict',
      hint: 'pass --force to overwrite it (namespace folders and jobs are kept)',
    });
  }
  const answers = loadAnswers(opts);
  // The named flags are answers like any other, so they go through the same checks.
  if (typeof opts.project === 'string') answers.set('project', opts.project);
  if (Array.isArray(opts.namespace)) answers.set('namespaces', (opts.namespace as string[]).join(','));
  if (typeof opts.host === 'string') answers.set('host', opts.host);
  if (typeof opts.pluginsDir === 'string') answers.set('plugins_dir', opts.pluginsDir);
  const listed = answers.get('namespaces');
  if (Array.isArray(listed)) answers.set('namespaces', listed.join(','));
  const survey = startSurvey(opts, answers);

  const folder = basename(root)
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  const project = await survey.ask({
    name: 'project',
    message: 'Project name',
    ...(folder ? { default: folder } : {}),
    required: true,
    check: nameProblem,
  });
  const nsText = await survey.ask({
    name: 'namespaces',
    message: 'Namespaces (comma-separated; each gets <name>/jobs)',
    required: true,
    check: (v) => {
      const names = splitNames(v);
      if (!names.length) return 'name at least one namespace';
      const bad = names.find((n) => nameProblem(n));
      if (bad) return `namespace "${bad}" ${nameProblem(bad)}`;
      if (new Set(names).size !== names.length) return 'a namespace is named twice';
      return undefined;
    },
  });
  const host = await survey.ask({
    name: 'host',
    message: 'Optimus server address',
    default: DEFAULT_HOST,
    required: true,
    check: (v) =>
      /^(https?:\/\/)?[^\s/]+(:\d+)?\/?$/.test(v)
        ? undefined
        : 'must be an address such as http://127.0.0.1:9100',
  });
  const pluginsDir = await survey.ask({
    name: 'plugins_dir',
    message: 'Where plugins are installed (plugins.install_location)',
    default: '.plugins',
    required: true,
  });
  survey.finish('initialise the project');
  if (!project || !nsText || !host || !pluginsDir) throw new Error('survey finished with answers missing');
  for (const name of survey.unused())
    process.stderr.write(`warning: answer ${name} matches no question asked; ignored\n`);

  const namespaces = splitNames(nsText);
  const doc = new Document({
    version: 1,
    host,
    project: { name: project, config: {} },
    namespaces: namespaces.map((name) => ({ name, job: { path: `${name}/jobs` }, config: {} })),
    plugins: { install_location: pluginsDir },
  });
  for (const ns of (doc.get('namespaces', true) as YAMLSeq).items) {
    const job = isMap(ns) ? ns.get('job', true) : undefined;
    if (isMap(job)) job.flow = true;
  }
  doc.commentBefore =
    ' Optimus project. Next: optimus job create (asks the server for its plugins), then optimus job validate.';
  const created: string[] = [];
  mkdirSync(root, { recursive: true });
  for (const ns of namespaces) {
    const dir = join(root, ns, 'jobs');
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true });
      // Keeps the empty folder in git, so a fresh clone still validates.
      writeFileSync(join(dir, '.gitkeep'), '');
      created.push(dir);
    }
  }
  // `optimus plugin install` fills it; while it is empty, validation uses the server's specs.
  const plugins = resolve(root, pluginsDir);
  if (!existsSync(plugins)) {
    mkdirSync(plugins, { recursive: true });
    created.push(plugins);
  }
  writeFileSync(file, doc.toString({ lineWidth: 0, flowCollectionPadding: false }));

  const shown = (p: string) => relative(process.cwd(), p) || '.';
  if (opts.json) {
    printJson({
      ok: true,
      file: shown(file),
      project,
      namespaces,
      host,
      plugins_dir: pluginsDir,
      created: created.map(shown),
    });
    return EXIT_OK;
  }
  const lines = [`wrote ${shown(file)} (project ${project}; namespaces ${namespaces.join(', ')})`];
  for (const c of created) lines.push(`  + ${shown(c)}/`);
  lines.push(
    `next: optimus job create${nextFlags({ dir: root })} (asks the server at ${host} for its plugins; start one with \`optimus serve\`)`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}

function splitNames(v: string): string[] {
  return v
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}
