/**
 * Database errors → OptimusError. Constraint violations become `conflict`s a service can map to a
 * status; lost connections become STORE_UNREACHABLE. Messages never carry query parameters or a
 * connection URL's password.
 */
import { OptimusError } from '../core/errors.js';

interface DbError {
  code?: string;
  constraint?: string;
  message?: string;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
  // PostgreSQL: admin shutdown, crash shutdown, cannot connect now, bad password, no such role/database.
  '57P01',
  '57P02',
  '57P03',
  '28P01',
  '28000',
  '3D000',
]);

/** Connection-level failure (server down, unreachable, refused our credentials). */
export function isConnectionError(e: unknown): boolean {
  const err = e as DbError | undefined;
  if (!err || typeof err !== 'object') return false;
  if (err.code && (CONNECTION_CODES.has(err.code) || err.code.startsWith('08'))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    err.message ?? '',
  );
}

/** `postgres://user:***@host:port/db`: the URL with its password (and password parameters) hidden. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(unparseable URL)';
  }
  if (u.password) u.password = '***';
  for (const key of ['password', 'sslpassword']) if (u.searchParams.has(key)) u.searchParams.set(key, '***');
  return u.toString();
}

/** Every spelling of the URL's password that could appear in a driver message. */
function secretsOf(url: string): string[] {
  try {
    const u = new URL(url);
    const out = [u.password, decodeURIComponent(u.password), u.searchParams.get('password') ?? ''];
    return out.filter((s) => s.length > 0);
  } catch {
    return [url];
  }
}

export function scrub(text: string, url: string | undefined): string {
  if (!url) return text;
  let out = text;
  for (const s of secretsOf(url)) out = out.split(s).join('***');
  return out;
}

export function unreachable(e: unknown, url: string): OptimusError {
  const reason = scrub(String((e as DbError)?.message || (e as DbError)?.code || e), url);
  return new OptimusError('STORE_UNREACHABLE', `cannot reach PostgreSQL at ${redactUrl(url)}: ${reason}`, {
    category: 'io',
    hint: 'check db.url (host, port, user, password, database) and that the PostgreSQL server is running and accepts connections from this host',
  });
}

const MISSING: Record<string, (subject: string) => OptimusError> = {
  project: (s) =>
    new OptimusError('PROJECT_MISSING', `${s}: its project does not exist`, {
      category: 'conflict',
      hint: 'register the project first',
    }),
  namespace: (s) =>
    new OptimusError('NAMESPACE_MISSING', `${s}: its namespace does not exist in the project`, {
      category: 'conflict',
      hint: 'register the namespace first',
    }),
};

/**
 * Translate a driver error raised while doing `subject` (e.g. `secret "X" of project "p"`). Driver
 * errors are never passed on as causes: PGlite's carry the query's parameters (a whole deploy).
 */
export function translate(e: unknown, subject: string, url?: string): unknown {
  if (e instanceof OptimusError) return e;
  if (isConnectionError(e)) return url ? unreachable(e, url) : e;
  const err = e as DbError;
  if (err?.code === '23503') {
    const which = err.constraint?.endsWith('_namespace_fkey') ? 'namespace' : 'project';
    return MISSING[which]!(subject);
  }
  if (err?.code === '21000') {
    return new OptimusError('STORE_CONFLICT', `${subject} names the same row twice (a duplicate job name?)`, {
      category: 'conflict',
    });
  }
  if (err?.code === '23505') {
    return new OptimusError(
      'STORE_CONFLICT',
      `${subject} conflicts with an existing row (${err.constraint})`,
      {
        category: 'conflict',
      },
    );
  }
  const reason = scrub(String(err?.message ?? e), url);
  return new OptimusError(
    'STORE_QUERY_FAILED',
    `store query failed for ${subject}: ${reason}${err?.code ? ` [${err.code}]` : ''}`,
    {
      category: 'internal',
    },
  );
}
