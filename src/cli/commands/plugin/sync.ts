import type { CommandContext } from '../../command-kit.js';
import { projectConfigIfAny, serverClient } from '../../context.js';
import { nextFlags, plural, printJson } from '../../output.js';
import { syncPluginCache } from '../../plugin-cache.js';

export async function run({ opts }: CommandContext): Promise<number> {
  const client = serverClient(opts, projectConfigIfAny(opts));
  await client.checkVersion();
  const r = await syncPluginCache(client);
  if (opts.json)
    printJson({
      ok: true,
      server: client.baseUrl,
      cache: r.dir,
      changed: r.changed,
      plugins: r.files.map((f) => f.replace(/^optimus-plugin-|\.yaml$/g, '')),
    });
  else {
    process.stdout.write(
      `${r.changed ? 'synced' : 'already current:'} ${plural(r.files.length, 'plugin spec')} from ${client.baseUrl} in ${r.dir}\n`,
    );
    process.stdout.write(
      `next: \`optimus job validate --server${nextFlags(opts)}\` checks jobs against them, offline too\n`,
    );
  }
  return 0;
}
