/**
 * JSON with object keys sorted at every level: equal values give equal text, so equal hashes.
 * safe-stable-stringify gives the same text as the former hand-written version for every JSON value
 * (checked by a property test), so content hashes already stored by a server stay valid.
 */
import { createHash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';

const stringify = configure({ deterministic: true, bigint: false, circularValue: TypeError });

export function canonicalJson(value: unknown): string {
  return stringify(value) ?? 'null';
}

export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
