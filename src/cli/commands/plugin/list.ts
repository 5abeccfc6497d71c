import pc from 'picocolors';
import { inspect } from '../../../plugins/install/status.js';
import type { CommandContext } from '../../command-kit.js';
import { EXIT_OK, EXIT_PROBLEMS } from '../../errors.js';
import { printJson, relativeTo } from '../../output.js';
import { loadSection } from './install-support.js';

export async function run({ opts }: CommandContext): Promise<number> {
  if (opts.server) return (await import('./server-plugins.js')).listServer(opts);
  const loaded = loadSection(opts);
  if ('exit' in loaded) return loaded.exit;
  const { views, lockFile } = await inspect(loaded.section);
  const rows = views.map((v) => ({
    name: v.name,
    kind: v.locked?.kind ?? null,
    version: v.locked?.version ?? null,
    source: v.locked?.source ?? v.configSource ?? null,
    state: !v.locked
      ? 'not installed'
      : v.disk === 'verified'
        ? 'verified'
        : v.disk === 'missing'
          ? 'missing'
          : 'modified',
    in_config: v.inConfig,
    ...(v.changedFiles.length ? { changed_files: v.changedFiles } : {}),
  }));
  const ok = rows.every((r) => r.state === 'verified');
  if (opts.json) {
    printJson({ ok, lock_file: relativeTo(lockFile, process.cwd()), plugins: rows });
    return ok ? EXIT_OK : EXIT_PROBLEMS;
  }
  if (!rows.length) {
    process.stdout.write('no plugins configured or installed\n');
    return EXIT_OK;
  }
  const table = [
    ['NAME', 'KIND', 'VERSION', 'STATE', 'SOURCE'],
    ...rows.map((r) => [r.name, r.kind ?? '-', r.version ?? '-', r.state, r.source ?? '-']),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  table.forEach((row, i) => {
    const text = row.map((c, j) => (j === row.length - 1 ? c : c.padEnd(widths[j]!))).join('  ');
    const state = rows[i - 1]?.state;
    process.stdout.write(`${i === 0 ? pc.bold(text) : state === 'verified' ? text : pc.yellow(text)}\n`);
  });
  if (!ok)
    process.stdout.write(pc.dim('run `optimus plugin install` to restore modified or missing plugins\n'));
  return ok ? EXIT_OK : EXIT_PROBLEMS;
}
