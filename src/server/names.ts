/**
 * Request schemas for names, in paths, queries and bodies alike: a name that could never have been
 * registered is refused with a 400 naming the field, before any store lookup sees it.
 */
import { z } from 'zod';
import { hasControlChar, NAME_MAX, RESOURCE_NAME } from '../core/names.js';

const noControl = { message: 'must not contain control characters', abort: true } as const;

function resourceName(kind: 'project' | 'namespace' | 'job') {
  return z
    .string()
    .min(1, 'must not be empty')
    .refine((s) => !hasControlChar(s), noControl)
    .max(NAME_MAX[kind], `must be at most ${NAME_MAX[kind]} characters`)
    .regex(
      RESOURCE_NAME,
      'may contain only letters, digits, "_", "-" and "." and must start with a letter or digit',
    );
}

export const projectName = resourceName('project');
export const namespaceName = resourceName('namespace');
export const jobName = resourceName('job');

/** Secret names as sent (any case; upper-cased by the route); `{{ .secret.NAME }}` must work. */
export const secretName = z
  .string()
  .min(1, 'must not be empty')
  .refine((s) => !hasControlChar(s), noControl)
  .max(NAME_MAX.secret, `must be at most ${NAME_MAX.secret} characters`)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be letters, digits and _ (not starting with a digit)');
