/**
 * `optimus serve`: the server on its defaults (embedded store and a generated app key in the data
 * directory, bound to 127.0.0.1) or on a server config. Stops cleanly on SIGINT/SIGTERM; reloads
 * its plugins on SIGHUP (re-installing them first with --install-plugins).
 *
 * Logs go to stdout: readable lines in a terminal, pino's JSON lines otherwise (or with
 * `--log-format json`). Status lines for a person (the start line, notes) go to stderr.
 */
import { mkdirSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { expandEnvVars } from '../../core/env-vars.js';
import { OptimusError } from '../../core/errors.js';
import { errorsOf, type Problem, warningsOf } from '../../core/problem.js';
import type { PluginsSection } from '../../plugins/install/config.js';
import { DEFAULT_BASE_IMAGE, DEFAULT_REGISTRY } from '../../scheduler/airflow/contract.js';
import type { ReloadOutcome } from '../../server/plugin-registry.js';
import { ensureAppKey } from '../../services/app-key.js';
import { podTokenKey } from '../../services/pod-token.js';
import { createSecretCipher } from '../../services/secret-cipher.js';
import { defaultServerConfig, loadServerConfig, type ServerConfig } from '../../spec/server-config.js';
import { colorEnabled, err as stderrColors } from '../colors.js';
import type { CommandContext } from '../command-kit.js';
import { formatProblem } from '../output.js';
import { VERSION } from '../version.js';

type LogFormat = 'pretty' | 'json';

export async function run({ opts }: CommandContext): Promise<number> {
  const json = opts.json === true;
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const sayProblem = (p: Problem) => say(formatProblem(p, process.cwd(), stderrColors));
  const logFormat = chooseLogFormat(opts.logFormat, json);
  const config = readConfig(opts.config === undefined ? undefined : String(opts.config), sayProblem);

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
  const secretTokens = config.serve.secretTokens.map(expandEnv).filter(Boolean);
  const readOnlyTokens = config.serve.readOnlyTokens.map(expandEnv).filter(Boolean);
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
    say(`installing plugins into ${config.plugins.installLocation}`);
    const problems = await install(config.plugins, say);
    if (errorsOf(problems).length)
      throw new OptimusError(
        'PLUGIN_INSTALL_FAILED',
        'some plugins failed to install; the server was not started',
        { category: 'io', hint: 'fix the plugin list, or start without --install-plugins' },
      );
  }

  const [{ createStore }, { createApp }, { loadPluginRegistry, describeReload }, logger] = await Promise.all([
    import('../../store/create-store.js'),
    import('../../server/app.js'),
    import('../../server/plugin-registry.js'),
    createLogger(logFormat),
  ]);
  // With --install-plugins a reload installs first, from the config as it is then: SIGHUP after
  // editing the plugin list installs and serves the new list.
  const prepare = opts.installPlugins
    ? async () => {
        const section = opts.config ? reloadPluginsSection(String(opts.config)) : config.plugins;
        return { dir: section.installLocation, problems: await install(section) };
      }
    : undefined;
  const dbUrl = process.env.OPTIMUS_DB_URL || config.dbUrl;
  const storeDir = join(dataDir, 'store');
  // Independent, and both take a while (the store's WebAssembly, plugin handshakes): side by side.
  const [plugins, store] = await Promise.all([
    loadPluginRegistry(config.plugins.installLocation, prepare ? { prepare } : {}),
    createStore(
      dbUrl
        ? { url: dbUrl }
        : {
            dataDir: storeDir,
            ...(process.env.OPTIMUS_STORE_IMAGE ? { image: process.env.OPTIMUS_STORE_IMAGE } : {}),
            onNote: (note) => say(`note: ${note}`),
          },
    ),
  ]);
  for (const p of plugins.problems) sayProblem(p);
  // The embedded runner (scheduler.type local, the default) runs deployed jobs in this process.
  const runs = config.scheduler.type === 'local' && opts.runner !== false;
  const runner = runs
    ? (await import('../../scheduler/runner.js')).createRunner({
        store,
        plugins,
        cipher,
        config: config.scheduler,
        dataDir,
        logger,
      })
    : undefined;
  // Infers deployed jobs' lineage; its plugin processes start on the first deploy that needs them.
  const inferrer = (await import('../../services/lineage-infer.js')).createInferrer({
    plugins,
    store,
    cipher,
    logger,
  });
  // scheduler.type airflow: each deploy and job delete compiles the project's DAGs to its storage path.
  let ownUrl = '';
  const dags =
    config.scheduler.type === 'airflow'
      ? (await import('../../scheduler/airflow/publish.js')).createDagPublisher({
          store,
          plugins: () => plugins.plugins,
          scheduler: config.scheduler,
          providers: config.plugins.providers,
          optimusHost: () => config.serve.ingressHost ?? ownUrl,
          logger,
        })
      : undefined;
  const app = await createApp({
    ...(dags ? { dags } : {}),
    store,
    plugins,
    cipher,
    inferrer,
    tokens,
    secretTokens,
    readOnlyTokens,
    logger,
    version: VERSION,
    console: (await import('../../server/console.js')).CONSOLE_DIST,
    wrapperImages: {
      baseImage: config.scheduler.baseImage ?? DEFAULT_BASE_IMAGE,
      registry: config.scheduler.registry ?? DEFAULT_REGISTRY,
    },
    podTokens: {
      key: podTokenKey(appKey),
      ...(config.scheduler.podTokenTtlMs !== undefined ? { ttlMs: config.scheduler.podTokenTtlMs } : {}),
    },
    ...(runner ? { runner } : {}),
    runDefaults: {
      nodeTimeoutMs: config.scheduler.nodeTimeoutMs,
      ...(config.scheduler.upstreamTimeoutMs !== undefined
        ? { upstreamTimeoutMs: config.scheduler.upstreamTimeoutMs }
        : {}),
    },
  });
  try {
    await app.listen({ host, port });
  } catch (e) {
    await inferrer.close();
    await store.close();
    const err = e as NodeJS.ErrnoException;
    throw new OptimusError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${err.code ?? err.message}`, {
      category: 'io',
      hint:
        err.code === 'EADDRINUSE' ? 'another process uses that port: pass --port' : 'check --host and --port',
    });
  }
  try {
    await runner?.start();
  } catch (e) {
    await app.close();
    await inferrer.close();
    await store.close();
    throw new OptimusError(
      'RUNNER_START_FAILED',
      `cannot start the embedded runner: ${(e as Error).message}`,
      {
        category: 'io',
        hint: 'check the data directory and the store; or start with --no-runner to serve the API only',
      },
    );
  }
  const address = app.server.address();
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${typeof address === 'object' && address ? address.port : port}`;
  ownUrl = url;
  const served = plugins.plugins.size;
  if (json)
    process.stdout.write(
      `${JSON.stringify({ listening: url, store: store.kind, data_dir: dataDir, plugins: served, auth: tokens.length > 0, runner: runner ? config.scheduler.executor : null })}\n`,
    );
  const runnerNote = runner
    ? `runner: ${config.scheduler.executor}, ${config.scheduler.concurrency} at once`
    : 'runner off';
  say(
    `optimus server listening on ${url} · store: ${dbUrl ? 'PostgreSQL' : `embedded, ${storeDir}`} · data dir: ${dataDir} · ${served} plugin(s) · auth ${tokens.length ? 'on' : 'off'} · ${runnerNote}`,
  );

  const onReload = (o: ReloadOutcome) => {
    if (o.ok) logger.info({ added: o.added, removed: o.removed, changed: o.changed }, describeReload(o));
    else logger.warn({ problems: o.problems }, describeReload(o));
  };
  let stopping = false;
  let stopped!: () => void;
  const closed = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.off('SIGHUP', hangup);
    if (stillWritable(2)) say(`${signal}: shutting down`);
    // Running nodes are stopped and recorded as interrupted first: the next start retries them.
    await runner?.stop();
    await app.close();
    await inferrer.close();
    await store.close();
    stopped();
  };
  const hangup = () => {
    // Closing the terminal the server runs in sends SIGHUP too. Then writing to that terminal
    // fails, and the server stops as it always did, instead of reloading for nobody.
    if (process.stderr.isTTY && !stillWritable(2)) return void stop('SIGHUP');
    logger.info(`SIGHUP: ${prepare ? 'installing and reloading' : 'reloading'} plugins`);
    void plugins.reload().then(onReload);
  };
  process.on('SIGHUP', hangup);
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  await closed;
  return 0;
}

/** Whether a terminal file descriptor still takes writes (a hung-up one answers EIO). */
function stillWritable(fd: number): boolean {
  try {
    writeSync(fd, '');
    return true;
  } catch {
    return false;
  }
}

function chooseLogFormat(given: unknown, json: boolean): LogFormat {
  if (given === undefined) return process.stdout.isTTY && !json ? 'pretty' : 'json';
  if (given === 'pretty' || given === 'json') return given;
  throw new OptimusError('USAGE', `--log-format ${String(given)} is not a log format`, {
    category: 'usage',
    hint: 'use --log-format pretty or --log-format json',
  });
}

function readConfig(file: string | undefined, sayProblem: (p: Problem) => void): ServerConfig {
  if (file === undefined) return defaultServerConfig();
  const r = loadServerConfig(file);
  for (const p of warningsOf(r.problems)) sayProblem(p);
  if (r.config) return r.config;
  for (const p of errorsOf(r.problems)) sayProblem(p);
  throw new OptimusError(
    'SERVER_CONFIG_INVALID',
    `server config ${file} has ${errorsOf(r.problems).length} problem(s)`,
    {
      category: 'usage',
      hint: 'fix the problems above',
    },
  );
}

/** The config's plugins section read again for a reload; its problems refuse the reload. */
function reloadPluginsSection(file: string): PluginsSection {
  const r = loadServerConfig(file);
  if (r.config) return r.config.plugins;
  const errors = errorsOf(r.problems);
  throw new OptimusError(
    'SERVER_CONFIG_INVALID',
    `server config ${file} has ${errors.length} problem(s): ${errors.map((p) => `${p.path ?? ''} ${p.message}`.trim()).join('; ')}`,
    { category: 'usage', hint: 'fix the config; the plugins served were left as they were' },
  );
}

/** Install the section's plugins; each failure is a problem. `say` reports progress at start. */
async function install(section: PluginsSection, say?: (line: string) => void): Promise<Problem[]> {
  const { installPlugins } = await import('../../plugins/install/installer.js');
  const report = await installPlugins(section);
  const problems: Problem[] = [];
  for (const r of report.results) {
    say?.(`  ${r.status.padEnd(9)} ${r.name}${r.error ? `: ${r.error.message}` : ''}`);
    if (r.error)
      problems.push({
        severity: 'error',
        code: r.error.code,
        message: `plugin ${r.name} failed to install: ${r.error.message}`,
        ...(r.error.hint ? { hint: r.error.hint } : {}),
      });
  }
  if (!report.ok && !problems.length)
    problems.push({ severity: 'error', code: 'PLUGIN_INSTALL_FAILED', message: 'the plugin install failed' });
  return problems;
}

/**
 * pino with secrets redacted, writing JSON lines, or readable lines through pino-pretty (loaded
 * only then). Redaction happens in pino, before either format sees the record.
 */
async function createLogger(format: LogFormat): Promise<Logger> {
  const { pino } = await import('pino');
  const options = {
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
  };
  if (format === 'json') return pino(options);
  const { prettyFactory } = await import('pino-pretty');
  const prettify = prettyFactory({
    colorize: colorEnabled(process.stdout),
    translateTime: 'SYS:HH:MM:ss',
    singleLine: true,
    // What the message already says (a reload's lists) or a request line shows.
    ignore: 'pid,hostname,reqId,req,res,responseTime,added,removed,changed,problems',
    messageFormat: (log, messageKey) => requestLine(log) ?? String(log[messageKey] ?? ''),
  });
  return pino(
    {
      ...options,
      // Fastify passes the reply to the `res` serializer: the completed-request record then carries
      // what a request line shows. The path only: a query string may hold what must not be logged.
      serializers: {
        res: (reply: { statusCode: number; request?: { method?: string; url?: string } }) => ({
          statusCode: reply.statusCode,
          method: reply.request?.method,
          path: reply.request?.url?.split('?')[0],
        }),
      },
    },
    {
      write(line: string) {
        const record = JSON.parse(line) as Record<string, unknown>;
        // One line per request (at completion, with its status) and no repeat of the start line.
        if (record.msg === 'incoming request' || /^Server listening at /.test(String(record.msg))) return;
        const text = prettify(record);
        if (text) process.stdout.write(text);
      },
    },
  );
}

/** `GET /api/v1beta1/plugins 200 1.2 ms` for a completed request; undefined for other records. */
function requestLine(log: Record<string, unknown>): string | undefined {
  const res = log.res as { statusCode?: number; method?: string; path?: string } | undefined;
  if (log.msg !== 'request completed' || !res?.method) return undefined;
  const ms = typeof log.responseTime === 'number' ? ` ${log.responseTime.toFixed(1)} ms` : '';
  return `${res.method} ${res.path} ${res.statusCode}${ms}`;
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
