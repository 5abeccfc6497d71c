/**
 * The server config file (`optimus serve -c server.yaml`): where it listens, its app key and auth
 * tokens, its store (empty = embedded), its plugins (the same section as optimus.yaml) and its
 * scheduler. Upstream keys this project does not use (telemetry, publisher, …) are warnings.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { hasErrors, type Problem } from '../core/problem.js';
import { parseDuration } from '../core/template/go-time.js';
import { type PluginsSection, parsePluginsSection } from '../plugins/install/config.js';
import { POD_TOKEN_PREFIX } from '../scheduler/airflow/contract.js';
import { pluginDependenciesSchema } from './project-config.js';
import { problemAt, readYamlFile, type YamlSource } from './yaml-source.js';
import { shapeProblems } from './zod-problems.js';

const port = z.int().min(0).max(65535);
/** A configured bearer token; the pod token prefix is taken: such a token would never be accepted. */
const bearerToken = z
  .string()
  .min(1)
  .refine((t) => !t.startsWith(POD_TOKEN_PREFIX), {
    message: `must not start with "${POD_TOKEN_PREFIX}": that prefix marks the server's own pod tokens`,
  });
const dbSchema = z.strictObject({
  url: z.string().optional().describe('postgres://… ; empty or absent = the embedded store'),
  dsn: z.string().optional().describe('upstream name for url'),
  min_open_connection: z.int().positive().optional(),
  max_open_connection: z.int().positive().optional(),
});

export const serverConfigSchema = z.looseObject({
  version: z.union([z.number(), z.string()]).optional(),
  log: z.object({ level: z.string().optional(), format: z.string().optional() }).optional(),
  serve: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: port.optional(),
      ingress_host: z.string().optional(),
      app_key: z.string().optional(),
      data_dir: z.string().optional(),
      auth: z
        .strictObject({
          tokens: z
            .array(
              z.union([
                bearerToken,
                z
                  .strictObject({
                    token: bearerToken,
                    read_secrets: z
                      .boolean()
                      .optional()
                      .describe('may read secret values in run input (default false)'),
                    read_only: z
                      .boolean()
                      .optional()
                      .describe('may call GET routes only: look, never change (default false)'),
                  })
                  .refine((t) => !(t.read_secrets === true && t.read_only === true), {
                    message:
                      'a token cannot be both read_only and read_secrets: reading secret values is for the scheduler, which writes runs',
                  }),
              ]),
            )
            .optional()
            .describe(
              'bearer tokens: a string, {token, read_secrets: true} for a token that may read secrets, or {token, read_only: true} for one that may only read',
            ),
        })
        .optional(),
      db: dbSchema.optional(),
    })
    .optional(),
  db: dbSchema.optional(),
  plugins: z.looseObject({ dependencies: pluginDependenciesSchema.optional() }).nullable().optional(),
  scheduler: z
    .strictObject({
      type: z.enum(['local', 'airflow']).optional(),
      executor: z
        .enum(['process', 'docker'])
        .optional()
        .describe(
          "local runner: run each node as a child process (default) or in its plugin's image with docker",
        ),
      concurrency: z
        .int()
        .min(1)
        .max(1000)
        .optional()
        .describe('local runner: nodes running at once (default 8)'),
      node_timeout: z
        .string()
        .regex(/^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/, 'a duration such as 30m or 2h')
        .refine((v) => durationMs(v) > 0, 'a duration longer than zero, such as 30m or 2h')
        .optional()
        .describe(
          "local runner: longest one attempt of a node may run unless the job's behavior.timeout says (default 1h)",
        ),
      upstream_timeout: z
        .string()
        .regex(/^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/, 'a duration such as 12h or 48h')
        .refine((v) => durationMs(v) > 0, 'a duration longer than zero, such as 12h or 48h')
        .optional()
        .describe(
          "local runner: longest a run waits for its upstream jobs' runs of its window before it fails (default 24h)",
        ),
      docker: z
        .strictObject({
          network: z.string().min(1).optional().describe('docker run --network (default none)'),
          host: z.string().min(1).optional().describe('DOCKER_HOST for the docker CLI (default: its own)'),
        })
        .optional(),
      pod_token_ttl: z
        .string()
        .regex(/^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/, 'a duration such as 30m or 1h')
        .refine((v) => durationMs(v) >= 1000, 'a duration of at least 1s, such as 30m or 1h')
        .refine(
          (v) => durationMs(v) <= 7 * 24 * 60 * 60 * 1000,
          'at most 168h: a pod token is meant to be short-lived',
        )
        .optional()
        .describe(
          'airflow: how long a pod token minted at pod launch stays valid for fetching its run input (default 1h)',
        ),
      storage_path: z.string().optional(),
      base_image: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/, 'an image reference such as optimus-ts/base:1')
        .optional()
        .describe(
          'airflow: the base image wrapper images copy their entrypoint from (default optimus-ts/base:1)',
        ),
      registry: z
        .string()
        .regex(
          /^[A-Za-z0-9][A-Za-z0-9._\-/:]*$/,
          'a registry and path such as registry.acme.internal/optimus',
        )
        .optional()
        .describe(
          'airflow: where wrapper images are pushed, <registry>/<plugin>:<tag> (default localhost:5000/optimus)',
        ),
      host: z.string().optional(),
    })
    .optional(),
});

export interface ServerConfig {
  file?: string;
  serve: {
    host: string;
    port: number;
    ingressHost?: string;
    appKey?: string;
    dataDir?: string;
    tokens: string[];
    /** The tokens (also in `tokens`) that may read secrets: run input with secret values. */
    secretTokens: string[];
    /** The tokens (also in `tokens`) that may call GET routes only. */
    readOnlyTokens: string[];
  };
  /** PostgreSQL URL; absent = embedded store. */
  dbUrl?: string;
  plugins: PluginsSection;
  scheduler: {
    type: 'local' | 'airflow';
    /** Local runner: how a node runs. */
    executor: 'process' | 'docker';
    /** Local runner: nodes running at once. */
    concurrency: number;
    /** Local runner: default timeout of one attempt of a node. */
    nodeTimeoutMs: number;
    /**
     * Local runner: how long after it was created a run waiting for its upstream jobs fails
     * (always set by the parser; optional so configs built in code may leave it to the default).
     */
    upstreamTimeoutMs?: number;
    docker: { network: string; host?: string };
    /** Airflow: validity of a pod token (absent: 1h). */
    podTokenTtlMs?: number;
    storagePath?: string;
    /** Absent: contract.ts's DEFAULT_BASE_IMAGE. */
    baseImage?: string;
    /** Where wrapper images live; absent: contract.ts's DEFAULT_REGISTRY. */
    registry?: string;
    host?: string;
  };
}

export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_NODE_TIMEOUT_MS = 60 * 60 * 1000;
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/** `1h30m`, `45s`, `250ms` → milliseconds, read as Go reads durations (beyond ~290 years: Infinity). */
export function durationMs(text: string): number {
  const ns = parseDuration(text);
  return ns === undefined ? Number.POSITIVE_INFINITY : Math.round(Number(ns) / 1e6);
}

function defaultScheduler(): ServerConfig['scheduler'] {
  return {
    type: 'local',
    executor: 'process',
    concurrency: DEFAULT_CONCURRENCY,
    nodeTimeoutMs: DEFAULT_NODE_TIMEOUT_MS,
    upstreamTimeoutMs: DEFAULT_UPSTREAM_TIMEOUT_MS,
    docker: { network: 'none' },
  };
}

const KNOWN = new Set(['version', 'log', 'serve', 'db', 'plugins', 'scheduler']);
const UPSTREAM_ONLY: Record<string, string> = {
  plugin: 'plugin.artifacts is replaced by plugins.list (see docs)',
  telemetry: 'telemetry is not supported and is ignored',
  resource_managers: 'resource_managers is not supported yet and is ignored',
  publisher: 'publisher is not supported and is ignored',
  replay: 'replay is not supported yet and is ignored',
};

export function defaultServerConfig(cwd = process.cwd()): ServerConfig {
  return {
    serve: { host: '127.0.0.1', port: 9100, tokens: [], secretTokens: [], readOnlyTokens: [] },
    plugins: parsePluginsSection(undefined, { file: '', locate: () => undefined }, ['plugins'], cwd).section,
    scheduler: defaultScheduler(),
  };
}

export function loadServerConfig(path: string): { config?: ServerConfig; problems: Problem[] } {
  const { src, problems } = readYamlFile(resolve(path), {
    code: 'SERVER_CONFIG_MISSING',
    what: 'cannot read server config',
    hint: 'pass -c <server.yaml>, or omit -c to run on the defaults',
  });
  if (!src) return { problems };
  return parseServerConfig(src);
}

export function parseServerConfig(src: YamlSource): { config?: ServerConfig; problems: Problem[] } {
  const problems = [...src.problems];
  if (hasErrors(problems)) return { problems };
  const value = src.value ?? {};
  problems.push(
    ...shapeProblems(serverConfigSchema, value, src, { unknownKeys: 'warning', codePrefix: 'SERVER_CONFIG' }),
  );
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const key of Object.keys(value)) {
      if (KNOWN.has(key)) continue;
      problems.push(
        problemAt(
          src,
          [key],
          'warning',
          'SERVER_CONFIG_UNKNOWN_KEY',
          UPSTREAM_ONLY[key] ?? `unknown key "${key}"`,
          { key: true },
        ),
      );
    }
  }
  if (hasErrors(problems)) return { problems };
  const raw = value as z.infer<typeof serverConfigSchema>;
  const dir = dirname(src.file);
  const plugins = parsePluginsSection(raw.plugins, src, ['plugins'], dir);
  problems.push(...plugins.problems);
  const serve = raw.serve ?? {};
  const appKey = serve.app_key;
  if (appKey !== undefined && !appKey.startsWith('${') && Buffer.byteLength(appKey) < 32) {
    problems.push(
      problemAt(
        src,
        ['serve', 'app_key'],
        'error',
        'SERVER_CONFIG_INVALID',
        'app_key must be at least 32 characters; its value is not shown',
        { hint: 'omit it to have one generated and kept in the data directory' },
      ),
    );
  }
  if (hasErrors(problems)) return { problems };
  const config: ServerConfig = {
    file: src.file,
    serve: {
      host: serve.host ?? '127.0.0.1',
      port: serve.port ?? 9100,
      tokens: (serve.auth?.tokens ?? []).map((t) => (typeof t === 'string' ? t : t.token)),
      secretTokens: (serve.auth?.tokens ?? []).flatMap((t) =>
        typeof t !== 'string' && t.read_secrets === true ? [t.token] : [],
      ),
      readOnlyTokens: (serve.auth?.tokens ?? []).flatMap((t) =>
        typeof t !== 'string' && t.read_only === true ? [t.token] : [],
      ),
    },
    plugins: plugins.section,
    scheduler: defaultScheduler(),
  };
  const sch = raw.scheduler;
  if (sch?.type) config.scheduler.type = sch.type;
  if (sch?.executor) config.scheduler.executor = sch.executor;
  if (sch?.concurrency) config.scheduler.concurrency = sch.concurrency;
  if (sch?.node_timeout) config.scheduler.nodeTimeoutMs = durationMs(sch.node_timeout);
  if (sch?.upstream_timeout) config.scheduler.upstreamTimeoutMs = durationMs(sch.upstream_timeout);
  if (sch?.docker?.network) config.scheduler.docker.network = sch.docker.network;
  if (sch?.docker?.host) config.scheduler.docker.host = sch.docker.host;
  if (sch?.pod_token_ttl) config.scheduler.podTokenTtlMs = durationMs(sch.pod_token_ttl);
  if (serve.ingress_host) config.serve.ingressHost = serve.ingress_host;
  if (appKey) config.serve.appKey = appKey;
  if (serve.data_dir) config.serve.dataDir = resolve(dir, serve.data_dir);
  const dbUrl = raw.db?.url || raw.db?.dsn || serve.db?.url || serve.db?.dsn;
  if (dbUrl) config.dbUrl = dbUrl;
  if (raw.scheduler?.storage_path) config.scheduler.storagePath = raw.scheduler.storage_path;
  if (raw.scheduler?.base_image) config.scheduler.baseImage = raw.scheduler.base_image;
  if (raw.scheduler?.registry) config.scheduler.registry = raw.scheduler.registry;
  if (raw.scheduler?.host) config.scheduler.host = raw.scheduler.host;
  return { config, problems };
}
