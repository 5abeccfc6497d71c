/**
 * The messages of the binary plugin protocol (docs/plugin-protocol.md in the Optimus repository),
 * as types: the host and the SDK both speak exactly these, so they cannot drift.
 */

/** The protocol version this package speaks; the host sends its own in `handshake`. */
export const PROTOCOL_VERSION = 1;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface RpcRequest {
  jsonrpc: '2.0';
  /** Absent for a notification, which gets no response. */
  id?: number | string | null;
  method: string;
  params?: unknown;
}

export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

export type RpcResponse =
  | { jsonrpc: '2.0'; id: number | string | null; result: unknown }
  | { jsonrpc: '2.0'; id: number | string | null; error: RpcError };

/** JSON-RPC 2.0 error codes, plus the protocol's own (-32000 to -32099). */
export const ErrorCodes = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** The plugin cannot speak the host's protocol version. */
  unsupportedProtocol: -32000,
  /** The plugin understood the request but cannot answer it for this job (e.g. a config is missing). */
  jobError: -32001,
} as const;

export interface HandshakeParams {
  protocol: number;
  host?: string;
}

export interface HandshakeResult {
  protocol: number;
  /** The plugin's spec in the v3 dialect, as a JSON object. */
  spec: Record<string, unknown>;
}

/** The job a mod call is about. */
export interface ModJob {
  project: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
}

/**
 * Params of `generate_destination` and `generate_dependencies`: the job, its task config rendered
 * (secret configs only when the plugin's spec asks for them) and its assets rendered.
 */
export interface ModParams {
  job: ModJob;
  config: Record<string, string>;
  assets: Record<string, string>;
}

export interface DestinationResult {
  /** A URN such as `bigquery://project:dataset.table`; null when the job writes no table. */
  destination: string | null;
}

export interface DependenciesResult {
  /** URNs of what the job reads, e.g. `bigquery://project:dataset.table`. */
  dependencies: string[];
  /** Problems that did not stop the answer, e.g. a statement the SQL parser could not read. */
  warnings?: string[];
}

/**
 * Params of `compile_assets` (run time: the assets rendered for one run's window). The window's
 * exact fields are the host's; the SDK passes them through untouched.
 */
export interface CompileAssetsParams extends ModParams {
  window?: Record<string, unknown>;
}

export interface CompileAssetsResult {
  /** The assets to use instead, file name to content. */
  assets: Record<string, string>;
}
