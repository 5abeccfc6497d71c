/**
 * `optimus serve`: the server on its defaults (embedded store and a generated app key in the data
 * directory, bound to 127.0.0.1) or on a server config. Stops cleanly on SIGINT/SIGTERM.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { expandEnvVars } from '../../core/env-vars.js';
import { OptimusError } from '../../core/errors.js';
import { errorsOf, warningsOf } from '../../core/problem.js';
import { ensureAppKey } from '../../services/app-key.js';
import { createSecretCipher } from '../../services/secret-cipher.js';
import { defaultServerConfig, loadServerConfig, type ServerConfig } from '../../spec/server-config.js';
import type { CommandContext } from '../command-kit.js';
import { formatProblem } from '../output.js';

export const VERSION = '0.1.0';

export async function run({ opts }: CommandContext): Promise<number> {
  const json = opts.json === true;
  const say = (line: string) => process.stderr.write(`${line}\n`);
  let config: ServerConfig;
  if (opts.config) {
    const r = loadServerConfig(String(opts.config));
    for (const p of warningsOf(r.problems)) say(formatProblem(p));
    if (!r.config) {
      for (const p of errorsOf(r.problems)) say(formatProblem(p));
      throw new OptimusError(
        'SERVER_CONFIG_INVALID',
        `server config ${opts.config} has ${errorsOf(r.problems).length} problem(s)`,
        { category: 'usage', hint: 'fix the problems above' },
      );
    }
    config = r.config;
  } else config = defaultServerConfig();

  const host = String(opts.host ?? config.serve.host);
  const port = Number(opts.port ?? config.serve.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new OptimusError('USAGE', `--port ${opts.port} is not a port number`, { category: 'usage' });
  const dataDir = resolve(String(opts.dataDir ?? config.serve.dataDir ?? join(homedir(), '.optimus')));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tokens = [
    ...config.serve.tokens.map(expandEnv),
    ...(process.env.OPTIMUS_AUTH_TOKENS ?? '').split(',').map((t) => t.trim()),
  ].filter(Boolean);
  if (!isLoopback(host) && !tokens.length && !opts.insecure) {
    throw new OptimusError('INSECURE_BIND', `refusing to listen on ${host} without auth tokens`, {
      category: 'usage',
      hint: 'set serve.auth.tokens (or OPTIMUS_AUTH_TOKENS), or pass --insecure if the network is trusted',
    });
  }
  const appKey =
    process.env.OPTIMUS_APP_KEY ||
    (config.serve.appKey ? expandEnv(config.serve.appKey) : ensureAppKey(dataDir).key);
  const cipher = createSecretCipher(appKey);

  if (opts.installPlugins) {
    const { installPlugins } = await import('../../plugins/install/installer.js');
    say(`installing plugins into ${config.plugins.installLocation}`);
    const report = await installPlugins(config.plugins);
    for (const r of report.results)
      say(`  ${r.status.padEnd(9)} ${r.name}${r.error ? `: ${r.error.message}` : ''}`);
    if (!report.ok)
      throw new OptimusError(
        'PLUGIN_INSTALL_FAILED',
        'some plugins failed to install; the server was not started',
        { category: 'io', hint: 'fix the plugin list, or start without --install-plugins' },
      );
  }

  const [{ createStore }, { createApp }, { loadPluginRegistry }, { pino }] = await Promise.all([
    import('../../store/create-store.js'),
    import('../../server/app.js'),
    import('../../server/plugin-registry.js'),
    import('pino'),
  ]);
  const plugins = await loadPluginRegistry(config.plugins.installLocation);
  for (const p of plugins.problems) say(formatProblem(p));
  const dbUrl = process.env.OPTIMUS_DB_URL || config.dbUrl;
  const store = await createStore(dbUrl ? { url: dbUrl } : { dataDir: join(dataDir, 'store') });
  const logger = pino({
    level: process.env.OPTIMUS_LOG_LEVEL ?? 'info',
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        '*.value',
        '*.app_key',
        '*.password',
        '*.secret_access_key',
        '*.service_account',
      ],
      censor: '[redacted]',
    },
  });
  const app = await createApp({ store, plugins, cipher, tokens, logger, version: VERSION });
  try {
    await app.listen({ host, port });
  } catch (e) {
    await store.close();
    const err = e as NodeJS.ErrnoException;
    throw new OptimusError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${err.code ?? err.message}`, {
      category: 'io',
      hint:
        err.code === 'EADDRINUSE' ? 'another process uses that port: pass --port' : 'check --host and --port',
    });
  }
  const address = app.server.address();
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${typeof address === 'object' && address ? address.port : port}`;
  const storeDesc = dbUrl ? 'PostgreSQL' : `embedded store in ${join(dataDir, 'store')}`;
  if (json)
    process.stdout.write(
      `${JSON.stringify({ listening: url, store: store.kind, data_dir: dataDir, plugins: plugins.plugins.size, auth: tokens.length > 0 })}\n`,
    );
  say(
    `optimus server listening on ${url} (${storeDesc}; ${plugins.plugins.size} plugins; auth ${tokens.length ? 'on' : 'off'})`,
  );

  await new Promise<void>((done) => {
    const stop = async (signal: string) => {
      say(`${signal}: shutting down`);
      await app.close();
      await store.close();
      done();
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
  return 0;
}

function expandEnv(v: string): string {
  return expandEnvVars(
    v,
    process.env,
    (name) =>
      new OptimusError('ENV_MISSING', `environment variable ${name} is not set (used in the server config)`, {
        category: 'usage',
        hint: `export ${name}=…`,
      }),
  );
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
