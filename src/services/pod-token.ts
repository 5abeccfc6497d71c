/**
 * Pod tokens: what a pod launched by Airflow presents to fetch its node's run input. A DAG file
 * holds no credential; the scheduler mints one of these when it launches the pod, for exactly one
 * job, node and scheduled time, and it expires soon, so a leaked pod token opens nothing else.
 *
 * Format: `optimus-pod.<payload>.<sig>`, payload the base64url of a JSON object (version, scope,
 * issued-at and expiry in epoch milliseconds), sig the base64url HMAC-SHA-256 of
 * `optimus-pod.<payload>` under a key derived from the server's app key. The key is derived (HKDF
 * with its own label) rather than the app key's bytes used directly, so a pod token's signature
 * never doubles as anything the secret cipher computes under the same app key.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { POD_TOKEN_PREFIX, type PodTokenScope } from '../scheduler/airflow/contract.js';
import { normaliseInstanceType, parseRfc3339 } from './run-input.js';

export const POD_TOKEN_VERSION = 1;
export const DEFAULT_POD_TOKEN_TTL_MS = 60 * 60 * 1000;
/** Longest TTL the config accepts: a pod token is meant to live from pod launch to its first fetch. */
export const MAX_POD_TOKEN_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/**
 * Longest token verify looks at. Names are bounded by the run input route (job 125, instance 400
 * characters), so a real token is well under 2 KiB; anything longer is refused before any work.
 */
export const POD_TOKEN_MAX_LENGTH = 4096;
/**
 * How far ahead of this server's clock an issued-at may be: replicas of the server behind one
 * address mint and verify on clocks that differ a little.
 */
export const CLOCK_SKEW_MS = 60 * 1000;

const SIG_BYTES = 32;
// 32 bytes of base64url without padding: 43 characters.
const SHAPE = /^optimus-pod\.([A-Za-z0-9_-]{1,4000})\.([A-Za-z0-9_-]{43})$/;

export type PodTokenFailure = 'malformed' | 'bad_signature' | 'expired' | 'not_yet_valid';

export type PodTokenCheck =
  | { ok: true; scope: PodTokenScope; issuedAt: Date; expiresAt: Date }
  | { ok: false; reason: PodTokenFailure };

/** The signing key of pod tokens, derived from the app key with a label of its own. */
export function podTokenKey(appKey: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', Buffer.from(appKey, 'utf8'), 'optimus-ts', 'optimus pod token v1', SIG_BYTES),
  );
}

/**
 * A scope as the run input route would read the same request: `TYPE_TASK` → `task`, `__dash__` →
 * `-`, the scheduled time as a UTC instant. Undefined when the type or time is not one.
 */
export function normaliseScope(scope: Record<keyof PodTokenScope, string>): PodTokenScope | undefined {
  const instanceType = normaliseInstanceType(scope.instanceType);
  const at = parseRfc3339(scope.scheduledAt);
  if (!instanceType || !at) return undefined;
  return {
    project: scope.project,
    job: scope.job,
    instanceType,
    instanceName: scope.instanceName.replaceAll('__dash__', '-'),
    scheduledAt: at.toISOString(),
  };
}

/** The fields in which a request differs from a token's scope (empty: the token is for it). */
export function scopeMismatch(
  token: PodTokenScope,
  request: Record<keyof PodTokenScope, string>,
): (keyof PodTokenScope)[] {
  const want = normaliseScope(request);
  const fields: (keyof PodTokenScope)[] = ['project', 'job', 'instanceType', 'instanceName', 'scheduledAt'];
  if (!want) return fields;
  return fields.filter((f) =>
    f === 'scheduledAt'
      ? parseRfc3339(token.scheduledAt)?.getTime() !== parseRfc3339(want.scheduledAt)?.getTime()
      : token[f] !== want[f],
  );
}

export function mintPodToken(
  scope: PodTokenScope,
  opts: { key: Buffer; now: Date; ttlMs: number },
): { token: string; expiresAt: Date } {
  const normal = normaliseScope(scope);
  if (!normal) throw new TypeError('pod token scope needs task or hook and an RFC3339 scheduled time');
  const iat = opts.now.getTime();
  const exp = iat + opts.ttlMs;
  const payload = Buffer.from(
    JSON.stringify({
      v: POD_TOKEN_VERSION,
      p: normal.project,
      j: normal.job,
      t: normal.instanceType,
      n: normal.instanceName,
      s: normal.scheduledAt,
      iat,
      exp,
    }),
  ).toString('base64url');
  const signed = `${POD_TOKEN_PREFIX}${payload}`;
  return { token: `${signed}.${sign(opts.key, signed).toString('base64url')}`, expiresAt: new Date(exp) };
}

/** Whether a bearer token is meant as a pod token (then only verifyPodToken decides about it). */
export function isPodToken(bearer: string): boolean {
  return bearer.startsWith(POD_TOKEN_PREFIX);
}

/**
 * The token's scope, or why it is refused. The signature is checked (in constant time) before the
 * payload is read, so nothing a forger writes is ever parsed; no input makes it throw.
 */
export function verifyPodToken(token: string, opts: { key: Buffer; now: Date }): PodTokenCheck {
  if (typeof token !== 'string' || token.length > POD_TOKEN_MAX_LENGTH)
    return { ok: false, reason: 'malformed' };
  const m = SHAPE.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  // The text is compared, not its decoded bytes: base64url decoding ignores a last character's
  // spare bits, and a signature spelled two ways must not pass twice.
  const given = Buffer.from(m[2]!, 'latin1');
  const expected = Buffer.from(sign(opts.key, `${POD_TOKEN_PREFIX}${m[1]!}`).toString('base64url'), 'latin1');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad_signature' };
  const claims = readClaims(m[1]!);
  // Signed by this key yet unreadable: only a server of another version could have written it.
  if (!claims) return { ok: false, reason: 'malformed' };
  const now = opts.now.getTime();
  if (claims.iat > now + CLOCK_SKEW_MS) return { ok: false, reason: 'not_yet_valid' };
  if (now >= claims.exp) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    scope: {
      project: claims.p,
      job: claims.j,
      instanceType: claims.t,
      instanceName: claims.n,
      scheduledAt: claims.s,
    },
    issuedAt: new Date(claims.iat),
    expiresAt: new Date(claims.exp),
  };
}

interface Claims {
  v: number;
  p: string;
  j: string;
  t: 'task' | 'hook';
  n: string;
  s: string;
  iat: number;
  exp: number;
}

function readClaims(payload: string): Claims | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const c = value as Record<string, unknown>;
  const strings = ['p', 'j', 'n', 's'].every((k) => typeof c[k] === 'string');
  const times = Number.isSafeInteger(c.iat) && Number.isSafeInteger(c.exp);
  if (c.v !== POD_TOKEN_VERSION || !strings || !times || (c.t !== 'task' && c.t !== 'hook')) return undefined;
  if (parseRfc3339(c.s as string) === undefined) return undefined;
  return c as unknown as Claims;
}

function sign(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}
