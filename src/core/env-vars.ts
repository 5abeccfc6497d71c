/** `${VAR}` references in config values, expanded from an environment. */

const VAR_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Expand every `${VAR}` from `env`; a missing one becomes the caller's error (which names it, never a value). */
export function expandEnvVars(
  value: string,
  env: NodeJS.ProcessEnv,
  missing: (name: string) => Error,
): string {
  return value.replace(VAR_RE, (_, name: string) => {
    const got = env[name];
    if (got === undefined) throw missing(name);
    return got;
  });
}
