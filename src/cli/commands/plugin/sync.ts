import type { CommandContext } from '../../command-kit.js';
import { projectConfigIfAny, serverClient } from '../../context.js';
import { plural, printJson } from '../../output.js';
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
      plugins: r.files.map((f) => f.replace(/^optimus-plugin-|\.yaml$/g, '')),
    });
  else {
    process.stdout.write(
      `synced ${plural(r.files.length, 'plugin spec')} from ${client.baseUrl} into ${r.dir}\n`,
    );
    process.stdout.write('next: `optimus job validate --server` validates offline with them\n');
  }
  return 0;
}
