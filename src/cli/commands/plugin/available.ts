import pc from 'picocolors';
import { OptimusError } from '../../../core/errors.js';
import { formatBytes } from '../../../plugins/install/providers/provider.js';
import { available } from '../../../plugins/install/status.js';
import type { CommandContext } from '../../command-kit.js';
import { EXIT_OK, EXIT_PROBLEMS } from '../../errors.js';
import { printJson } from '../../output.js';
import { loadSection } from './install-support.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const loaded = loadSection(opts);
  if ('exit' in loaded) return loaded.exit;
  const names = new Set(loaded.section.providers.map((p) => p.name));
  const unknown = args.filter((a) => !names.has(a));
  if (unknown.length) {
    throw new OptimusError(
      'PLUGIN_PROVIDER_UNKNOWN',
      `unknown provider${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`,
      {
        category: 'usage',
        hint: names.size
          ? `providers in the config: ${[...names].join(', ')}`
          : 'define providers under plugins.providers',
      },
    );
  }
  const offers = await available(loaded.section, args);
  const ok = offers.every((o) => !o.error);
  if (opts.json) {
    printJson({
      ok,
      providers: offers.map(({ artifacts, ...o }) => ({
        ...o,
        artifacts: artifacts.map(({ installedAs, ...a }) =>
          installedAs ? { ...a, installed_as: installedAs } : a,
        ),
      })),
    });
    return ok ? EXIT_OK : EXIT_PROBLEMS;
  }
  if (!offers.length) process.stdout.write('no providers configured\n');
  for (const o of offers) {
    process.stdout.write(`${pc.bold(o.provider)} ${pc.dim(`(${o.type})`)}\n`);
    if (o.error) {
      process.stdout.write(`  ${pc.red('error')} ${o.error.message} ${pc.dim(`[${o.error.code}]`)}\n`);
      continue;
    }
    if (!o.artifacts.length) process.stdout.write(pc.dim('  nothing offered\n'));
    for (const a of o.artifacts) {
      const label = [a.name, a.version].filter(Boolean).join(' ');
      const size = a.size !== undefined ? formatBytes(a.size) : '';
      const mark = a.installedAs ? pc.green(`installed as ${a.installedAs}`) : '';
      process.stdout.write(
        `  ${a.ref}${label ? `  ${label}` : ''}${size ? `  ${pc.dim(size)}` : ''}${mark ? `  ${mark}` : ''}\n`,
      );
    }
  }
  return ok ? EXIT_OK : EXIT_PROBLEMS;
}
