import pc from 'picocolors';
import { inspect, strayEntries } from '../../../plugins/install/status.js';
import type { CommandContext } from '../../command-kit.js';
import { EXIT_OK, EXIT_PROBLEMS } from '../../errors.js';
import { printJson } from '../../output.js';
import { loadSection } from './install-support.js';

export async function run({ opts }: CommandContext): Promise<number> {
  if (opts.server) return (await import('./server-plugins.js')).diffServer(opts);
  const loaded = loadSection(opts);
  if ('exit' in loaded) return loaded.exit;
  const { views } = await inspect(loaded.section);
  const stray = await strayEntries(loaded.section);
  const changes: { name: string; change: string; detail: string }[] = [];
  for (const v of views) {
    if (v.inConfig && !v.locked)
      changes.push({
        name: v.name,
        change: 'not-locked',
        detail: `in the config, not in the lock (source ${v.configSource})`,
      });
    else if (!v.inConfig && v.locked)
      changes.push({ name: v.name, change: 'not-configured', detail: 'in the lock, not in the config' });
    else if (v.locked && v.configSource !== v.locked.source) {
      changes.push({
        name: v.name,
        change: 'source-changed',
        detail: `config ${v.configSource}, lock ${v.locked.source}`,
      });
    }
    if (v.locked && v.disk !== 'verified')
      changes.push({
        name: v.name,
        change: `disk-${v.disk}`,
        detail: `${v.disk}: ${v.changedFiles.join(', ')}`,
      });
  }
  for (const d of views) {
    const entry = loaded.section.list.find((e) => e.name === d.name);
    if (entry?.sha256 && d.locked && entry.sha256 !== d.locked.sha256 && d.configSource === d.locked.source) {
      changes.push({
        name: d.name,
        change: 'sha256-changed',
        detail: 'sha256 in the config differs from the lock',
      });
    }
  }
  for (const s of stray)
    changes.push({ name: s, change: 'stray', detail: 'in install_location, not in the config' });
  const code = changes.length && opts.exitCode ? EXIT_PROBLEMS : EXIT_OK;
  if (opts.json) {
    printJson({ ok: true, same: changes.length === 0, changes });
    return code;
  }
  if (!changes.length) {
    process.stdout.write('config, lock and installed files agree\n');
    return code;
  }
  const mark: Record<string, string> = {
    'not-locked': pc.green('+'),
    'not-configured': pc.red('-'),
    stray: pc.red('?'),
  };
  for (const c of changes)
    process.stdout.write(`${mark[c.change] ?? pc.yellow('~')} ${c.name}  ${pc.dim(c.detail)}\n`);
  process.stdout.write(
    pc.dim(
      '`optimus plugin install` brings the lock and files in line with the config; `optimus plugin clean` removes strays\n',
    ),
  );
  return code;
}
