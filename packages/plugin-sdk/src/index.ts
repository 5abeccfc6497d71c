/**
 * Write an Optimus binary plugin in a few lines: `servePlugin` speaks the protocol of
 * docs/plugin-protocol.md (newline-delimited JSON-RPC 2.0 on stdin/stdout) and calls your handlers.
 *
 * Importing this module sends everything logged through `console` or written to `process.stdout`
 * to stderr (./console.js does it as it loads, so before the body of any module that imports the
 * SDK, the plugin's main included), because stdout carries only responses.
 * A host that only needs the message types imports `@optimus-ts/plugin-sdk/protocol`, which has
 * no such side effect.
 */

import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { protocolWrite } from './console.js';
import {
  type CompileAssetsParams,
  type CompileAssetsResult,
  type DependenciesResult,
  type DestinationResult,
  ErrorCodes,
  type ModJob,
  type ModParams,
  PROTOCOL_VERSION,
  type RpcError,
  type RpcResponse,
} from './protocol.js';

export * from './protocol.js';

type MaybePromise<T> = T | Promise<T>;

export interface PluginDefinition {
  /** The plugin's spec in the v3 dialect, handed to the host in the handshake. */
  spec: Record<string, unknown>;
  /** Where the job writes: a URN (`destinationUrn` builds one), or null when it writes no table. */
  generateDestination?: (params: ModParams) => MaybePromise<DestinationResult | string | null>;
  /** What the job reads: URNs, or `{ dependencies, warnings }` to report what could not be inferred. */
  generateDependencies?: (params: ModParams) => MaybePromise<DependenciesResult | string[]>;
  /** The job's assets for one run's window. */
  compileAssets?: (params: CompileAssetsParams) => MaybePromise<CompileAssetsResult | Record<string, string>>;
  /** Where requests come from; default process.stdin. */
  stdin?: Readable;
  /** Where responses go; default the real process.stdout (console output is on stderr). */
  stdout?: Writable;
  /**
   * Exit the process (code 0) once stdin is closed and every call in flight is answered; default
   * true when reading process.stdin. Tests that pass their own streams await the returned promise.
   */
  exitOnClose?: boolean;
}

/** A request that cannot be answered, with the JSON-RPC error to answer instead. */
class RequestError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

type Id = number | string | null;

/**
 * Serves the plugin until stdin closes. Calls run concurrently and are answered as they finish;
 * a batch is answered in one line once all of it is done.
 */
export function servePlugin(plugin: PluginDefinition): Promise<void> {
  const input = plugin.stdin ?? process.stdin;
  const write = (line: string): void => {
    if (plugin.stdout) plugin.stdout.write(line);
    else protocolWrite(line);
  };
  const exitOnClose = plugin.exitOnClose ?? plugin.stdin === undefined;
  const inFlight = new Set<Promise<void>>();

  const track = (work: Promise<void>): void => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  const send = (message: RpcResponse | RpcResponse[]): void => {
    let line: string;
    try {
      line = JSON.stringify(message);
    } catch (e) {
      // A handler returned something JSON cannot carry (a BigInt, a cycle): answer that instead.
      const ids = Array.isArray(message) ? message.map((m) => m.id) : [message.id];
      const errors = ids.map((id) =>
        errorResponse(
          id,
          ErrorCodes.internalError,
          `the plugin's answer is not JSON: ${(e as Error).message}`,
        ),
      );
      line = JSON.stringify(Array.isArray(message) ? errors : errors[0]);
    }
    write(`${line}\n`);
  };

  const onLine = (line: string): void => {
    if (line.trim() === '') return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      send(errorResponse(null, ErrorCodes.parseError, 'parse error: the line is not JSON'));
      return;
    }
    if (Array.isArray(message)) {
      if (message.length === 0) {
        send(errorResponse(null, ErrorCodes.invalidRequest, 'invalid request: an empty batch'));
        return;
      }
      track(
        Promise.all(message.map((m) => answer(plugin, m))).then((responses) => {
          const answered = responses.filter((r): r is RpcResponse => r !== undefined);
          if (answered.length > 0) send(answered);
        }),
      );
      return;
    }
    track(
      answer(plugin, message).then((response) => {
        if (response) send(response);
      }),
    );
  };

  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', onLine);
  return new Promise<void>((resolve) => {
    lines.on('close', () => {
      void (async () => {
        // Calls in flight may start others' answers; wait until none is left.
        while (inFlight.size > 0) await Promise.all([...inFlight]);
        if (!exitOnClose) return resolve();
        const done = (): void => {
          resolve();
          process.exit(0);
        };
        // The last answers must leave before the process does.
        if (plugin.stdout) plugin.stdout.write('', done);
        else protocolWrite('', done);
      })();
    });
  });
}

/** The response to one request, or undefined for a notification. Never rejects. */
async function answer(plugin: PluginDefinition, message: unknown): Promise<RpcResponse | undefined> {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    return errorResponse(null, ErrorCodes.invalidRequest, 'invalid request: a request is a JSON object');
  }
  const request = message as Record<string, unknown>;
  const hasId = Object.hasOwn(request, 'id');
  const id = request.id;
  if (hasId && !(id === null || typeof id === 'number' || typeof id === 'string')) {
    return errorResponse(
      null,
      ErrorCodes.invalidRequest,
      'invalid request: "id" must be a number, a string or null',
    );
  }
  const responseId = (hasId ? id : null) as Id;
  if (request.jsonrpc !== '2.0' || typeof request.method !== 'string') {
    return errorResponse(
      responseId,
      ErrorCodes.invalidRequest,
      'invalid request: needs "jsonrpc": "2.0" and a "method" string',
    );
  }
  let response: RpcResponse;
  try {
    const result = await dispatch(plugin, request.method, request.params);
    response = { jsonrpc: '2.0', id: responseId, result };
  } catch (e) {
    response = errorResponse(responseId, ...errorOf(request.method, e));
  }
  return hasId ? response : undefined;
}

function errorOf(method: string, e: unknown): [number, string] {
  if (e instanceof RequestError) return [e.code, e.message];
  // The thrown message is the answer; its stack stays in the plugin.
  if (e instanceof Error) return [ErrorCodes.jobError, e.message || `${method} failed`];
  return [ErrorCodes.internalError, `${method} failed: the plugin threw ${describe(e)}, not an Error`];
}

function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  if (value === null || value === undefined) return String(value);
  return typeof value;
}

async function dispatch(plugin: PluginDefinition, method: string, params: unknown): Promise<unknown> {
  switch (method) {
    case 'handshake': {
      const p = objectParams(params);
      if (typeof p.protocol !== 'number') {
        throw new RequestError(ErrorCodes.invalidParams, 'invalid params: "protocol" must be a number');
      }
      if (p.protocol !== PROTOCOL_VERSION) {
        throw new RequestError(
          ErrorCodes.unsupportedProtocol,
          `unsupported protocol ${p.protocol}: this plugin speaks protocol ${PROTOCOL_VERSION}`,
        );
      }
      return { protocol: PROTOCOL_VERSION, spec: plugin.spec };
    }
    case 'generate_destination': {
      const handler = plugin.generateDestination;
      if (!handler) throw notImplemented(method);
      const result = await handler(modParams(params));
      const destination =
        result !== null && typeof result === 'object' ? (result as DestinationResult).destination : result;
      if (destination !== null && (typeof destination !== 'string' || destination === '')) {
        throw new RequestError(
          ErrorCodes.internalError,
          'generate_destination returned no destination: return a URN string, { destination }, or null',
        );
      }
      return { destination } satisfies DestinationResult;
    }
    case 'generate_dependencies': {
      const handler = plugin.generateDependencies;
      if (!handler) throw notImplemented(method);
      const result = await handler(modParams(params));
      const dependencies = Array.isArray(result) ? result : result?.dependencies;
      const warnings = Array.isArray(result) ? undefined : result?.warnings;
      if (!isStringArray(dependencies)) {
        throw new RequestError(
          ErrorCodes.internalError,
          'generate_dependencies returned no list of URNs: return string[] or { dependencies: string[] }',
        );
      }
      if (warnings !== undefined && !isStringArray(warnings)) {
        throw new RequestError(
          ErrorCodes.internalError,
          'generate_dependencies returned warnings that are not strings',
        );
      }
      return warnings && warnings.length > 0 ? { dependencies, warnings } : { dependencies };
    }
    case 'compile_assets': {
      const handler = plugin.compileAssets;
      if (!handler) throw notImplemented(method);
      const base = modParams(params);
      const window = (params as Record<string, unknown>).window;
      if (window !== undefined && (window === null || typeof window !== 'object' || Array.isArray(window))) {
        throw new RequestError(ErrorCodes.invalidParams, 'invalid params: "window" must be an object');
      }
      const result = await handler(
        window === undefined ? base : { ...base, window: window as Record<string, unknown> },
      );
      const assets =
        result !== null &&
        typeof result === 'object' &&
        'assets' in result &&
        typeof result.assets === 'object'
          ? (result as CompileAssetsResult).assets
          : result;
      if (!isStringMap(assets)) {
        throw new RequestError(
          ErrorCodes.internalError,
          'compile_assets returned no assets: return { assets: { "<file>": "<content>" } }',
        );
      }
      return { assets } satisfies CompileAssetsResult;
    }
    default:
      throw new RequestError(ErrorCodes.methodNotFound, `unknown method "${method}"`);
  }
}

function notImplemented(method: string): RequestError {
  return new RequestError(
    ErrorCodes.methodNotFound,
    `unknown method "${method}": this plugin does not implement it`,
  );
}

function objectParams(params: unknown): Record<string, unknown> {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new RequestError(ErrorCodes.invalidParams, 'invalid params: "params" must be an object');
  }
  return params as Record<string, unknown>;
}

/** Checks `{job, config, assets}`; a missing config or assets map is empty. */
function modParams(params: unknown): ModParams {
  const p = objectParams(params);
  const job = p.job;
  if (job === null || typeof job !== 'object' || Array.isArray(job)) {
    throw new RequestError(ErrorCodes.invalidParams, 'invalid params: "job" must be an object');
  }
  const j = job as Record<string, unknown>;
  for (const key of ['project', 'namespace', 'name'] as const) {
    if (j[key] !== undefined && typeof j[key] !== 'string') {
      throw new RequestError(ErrorCodes.invalidParams, `invalid params: "job.${key}" must be a string`);
    }
  }
  if (j.labels !== undefined && !isStringMap(j.labels)) {
    throw new RequestError(
      ErrorCodes.invalidParams,
      'invalid params: "job.labels" must map names to strings',
    );
  }
  for (const key of ['config', 'assets'] as const) {
    if (p[key] !== undefined && !isStringMap(p[key])) {
      throw new RequestError(ErrorCodes.invalidParams, `invalid params: "${key}" must map names to strings`);
    }
  }
  const modJob: ModJob = {
    project: (j.project as string | undefined) ?? '',
    namespace: (j.namespace as string | undefined) ?? '',
    name: (j.name as string | undefined) ?? '',
    labels: (j.labels as Record<string, string> | undefined) ?? {},
  };
  return {
    job: modJob,
    config: (p.config as Record<string, string> | undefined) ?? {},
    assets: (p.assets as Record<string, string> | undefined) ?? {},
  };
}

function isStringMap(value: unknown): value is Record<string, string> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function errorResponse(id: Id, code: number, message: string): RpcResponse {
  const error: RpcError = { code, message };
  return { jsonrpc: '2.0', id, error };
}

/** A resource URN: `destinationUrn('bigquery', 'p:d.t')` is `bigquery://p:d.t`. */
export function destinationUrn(store: string, name: string): string {
  if (!/^[a-z][a-z0-9+.-]*$/i.test(store)) {
    throw new Error(`destination store "${store}" is not a URN scheme (letters, digits, + . - only)`);
  }
  if (name.trim() === '') throw new Error(`destination name for store "${store}" is empty`);
  return `${store}://${name}`;
}

/**
 * The named configs of a call, all present and non-empty; otherwise throws one error naming every
 * missing config (the host shows it as the job's error).
 */
export function requireConfig<const K extends string>(
  params: Pick<ModParams, 'config'>,
  ...names: K[]
): Record<K, string> {
  const missing = names.filter((name) => (params.config[name] ?? '').trim() === '');
  if (missing.length > 0) {
    const list = missing.join(', ');
    throw new Error(
      `missing config${missing.length > 1 ? 's' : ''} ${list}: set ${missing.length > 1 ? 'them' : 'it'} in the job's task config`,
    );
  }
  return Object.fromEntries(names.map((name) => [name, params.config[name] as string])) as Record<K, string>;
}
