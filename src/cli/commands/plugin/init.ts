/**
 * `optimus plugin init <name> [--kind yaml|binary] [--mod dependency-resolver] [--dir D] [--force]`:
 * writes a new plugin project (src/authoring/scaffold.ts) that `optimus plugin test`, `run`, `build`
 * and `pack` work on as it is, then says what to run next. Everything is checked before anything is
 * written, and the files are written all or none.
 */
import { resolve } from 'node:path';
import { shown } from '../../../authoring/project.js';
import {
  checkNameForKind,
  checkPluginName,
  parseKind,
  parseMods,
  scaffoldFiles,
  writeScaffold,
} from '../../../authoring/scaffold.js';
import { SECRET_CONFIG } from '../../../authoring/templates/spec.js';
import { out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { EXIT_OK } from '../../errors.js';
import { printJson } from '../../output.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const name = checkPluginName(args[0]);
  const kind = parseKind(opts.kind);
  const mods = parseMods(opts.mod);
  checkNameForKind(name, kind);
  const target = resolve(typeof opts.dir === 'string' ? opts.dir : name);
  const result = writeScaffold(target, scaffoldFiles({ name, kind, mods }), { force: Boolean(opts.force) });
  const dir = shown(result.dir);

  if (opts.json) {
    printJson({
      ok: true,
      dir,
      name,
      kind,
      mods,
      files: result.files,
      overwritten: result.overwritten,
      warnings: result.warnings,
    });
    return EXIT_OK;
  }
  const overwritten = new Set(result.overwritten);
  const what = `a ${kind} plugin${mods.length ? ' with the dependency resolver' : ''}`;
  const lines = [`${result.overwritten.length ? 'wrote' : 'created'} ${dir}: ${what}`];
  for (const f of result.files)
    lines.push(
      overwritten.has(f) ? `  ${pc.yellow('~')} ${f} ${pc.dim('(overwritten)')}` : `  ${pc.green('+')} ${f}`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
  process.stdout.write(`${nextSteps(dir, kind).join('\n')}\n`);
  return EXIT_OK;
}

function nextSteps(dir: string, kind: 'yaml' | 'binary'): string[] {
  const d = shellWord(dir);
  const steps: [string, string][] = [
    [
      `optimus plugin test ${d}`,
      kind === 'binary'
        ? 'builds dist/, checks the spec, the sample job and tests/sample.yaml'
        : 'checks the spec, the sample job and tests/sample.yaml',
    ],
    [`optimus plugin run ${d} --secret ${SECRET_CONFIG}=test-token`, 'runs the sample job here'],
    [`optimus plugin pack ${d} --url <base url>`, 'the artifact and its plugins.list entry'],
  ];
  const width = Math.max(...steps.map(([c]) => c.length));
  return [
    'next:',
    ...steps.map(([c, why]) => `  ${c.padEnd(width)}  ${pc.dim(`# ${why}`)}`),
    pc.dim(`(${d === '.' ? '' : `${d}/`}README.md has the whole loop, the image and publishing)`),
  ];
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}
