/**
 * `optimus version`: the CLI's version and, when one answers, the server's (as upstream's
 * `optimus version --with-server`). `--wait <seconds>` waits for the server to answer, so a script
 * (or the README tour) can start `optimus serve &` and go on once it is up.
 */
import { isOptimusError, OptimusError } from '../../core/errors.js';
import { createApiClient } from '../api-client.js';
import type { CommandContext } from '../command-kit.js';
import { projectConfigIfAny, serverClient } from '../context.js';
import { printJson } from '../output.js';
import { VERSION } from '../version.js';

interface ServerVersion {
  server_version: string;
  api_version: number;
  store?: string;
}

export async function run({ opts }: CommandContext): Promise<number> {
  const waitSeconds = opts.wait === undefined ? 0 : Number(opts.wait);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0 || waitSeconds > 3600) {
    throw new OptimusError('USAGE', `--wait ${opts.wait} is not a number of seconds (0–3600)`, {
      category: 'usage',
    });
  }
  const { baseUrl } = serverClient(opts, projectConfigIfAny(opts));
  // Short per-attempt timeouts: a server that is starting answers within a second or not at all.
  const client = createApiClient({ host: baseUrl, token: process.env.OPTIMUS_TOKEN, timeoutMs: 2_000 });
  const deadline = Date.now() + waitSeconds * 1000;
  let server: ServerVersion | undefined;
  let lastError: unknown;
  if (waitSeconds > 0 && !opts.json) process.stderr.write(`waiting up to ${waitSeconds}s for ${baseUrl}…\n`);
  for (;;) {
    try {
      server = await client.get<ServerVersion>('/api/v1beta1/version');
      break;
    } catch (e) {
      lastError = e;
      // Only "not up yet" is worth waiting for; a refused token or a bad answer will not change.
      if (!isOptimusError(e) || e.code !== 'SERVER_UNREACHABLE' || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const failed = waitSeconds > 0 && !server;
  if (opts.json) {
    printJson({
      ok: !failed,
      client_version: VERSION,
      server: server ? { url: baseUrl, ...server } : null,
      ...(failed && isOptimusError(lastError)
        ? { error: { code: lastError.code, message: lastError.message, hint: lastError.hint } }
        : {}),
    });
    return failed ? 1 : 0;
  }
  const lines = [`client ${VERSION}`];
  if (server)
    lines.push(
      `server ${server.server_version} at ${baseUrl} (API ${server.api_version}${server.store ? `, ${server.store} store` : ''})`,
    );
  else if (!failed) lines.push(`server: none answers at ${baseUrl}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (failed) throw lastError;
  return 0;
}
