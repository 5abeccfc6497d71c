/**
 * `${VAR}` expansion for provider credentials and headers, and redaction of the values that came
 * out of it: every message the installer produces passes through one redactor, so a credential can
 * never reach output, logs or errors, whatever a library puts in its error text.
 */

import { expandEnvVars } from '../../core/env-vars.js';
import { OptimusError } from '../../core/errors.js';
import { formatPath, type PathSegment } from '../../core/problem.js';
import type { Location } from './config.js';

export interface Redactor {
  /** Remember a secret value. */
  add(value: string | undefined): void;
  redact(text: string): string;
}

export function createRedactor(): Redactor {
  const secrets = new Set<string>();
  return {
    add(value) {
      // Very short values would redact ordinary words; they are not credentials worth the name.
      if (value && value.length >= 4) secrets.add(value);
    },
    redact(text) {
      let out = text;
      for (const s of secrets) out = out.split(s).join('***');
      for (const s of secrets) {
        const enc = encodeURIComponent(s);
        if (enc !== s) out = out.split(enc).join('***');
      }
      return out;
    },
  };
}

/**
 * Expand `${VAR}` from `env`. A missing variable is a user error naming the variable and where it is
 * used (never the value). The expanded value is registered with the redactor when `secret`.
 */
export function expandEnv(
  value: string,
  where: { at: Location; field: PathSegment[] },
  env: NodeJS.ProcessEnv,
  redactor: Redactor,
  secret: boolean,
): string {
  const out = expandEnvVars(value, env, (v) => {
    const pos = where.at.line ? `${where.at.file}:${where.at.line}:${where.at.column ?? 1}` : where.at.file;
    return new OptimusError(
      'PLUGIN_ENV_MISSING',
      `${pos} ${formatPath([...where.at.path, ...where.field])}: environment variable ${v} is not set`,
      { category: 'invalid', hint: `export ${v} before running the command` },
    );
  });
  if (secret) redactor.add(out);
  return out;
}

/** A URL as it may be shown: no user info, no query string values that look like tokens. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    for (const key of [...u.searchParams.keys()]) {
      if (/token|sig|key|secret|password|credential/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    return url;
  }
}
