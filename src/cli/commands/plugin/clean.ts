import { clean } from '../../../plugins/install/status.js';
import type { CommandContext } from '../../command-kit.js';
import { EXIT_OK } from '../../errors.js';
import { plural, printJson, relativeTo } from '../../output.js';
import { loadSection } from './install-support.js';

export async function run({ opts }: CommandContext): Promise<number> {
  const loaded = loadSection(opts);
  if ('exit' in loaded) return loaded.exit;
  const dryRun = !!opts.dryRun;
  const { removed, lockPruned } = await clean(loaded.section, { dryRun });
  const where = relativeTo(loaded.section.installLocation, process.cwd());
  if (opts.json) {
    printJson({ ok: true, dry_run: dryRun, install_location: where, removed, lock_pruned: lockPruned });
    return EXIT_OK;
  }
  const verb = dryRun ? 'would remove' : 'removed';
  for (const r of removed) process.stdout.write(`${verb} ${where}/${r}\n`);
  for (const p of lockPruned)
    process.stdout.write(`${dryRun ? 'would drop' : 'dropped'} ${p} from the lock\n`);
  process.stdout.write(
    removed.length || lockPruned.length
      ? `${verb} ${plural(removed.length, 'entry')}\n`.replace('entrys', 'entries')
      : 'nothing to clean\n',
  );
  return EXIT_OK;
}
