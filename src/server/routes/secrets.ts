/** Secrets: stored encrypted, listed by name, namespace and digest, never returned. */
import { z } from 'zod';
import type { SecretCipher } from '../../services/secret-cipher.js';
import type { SecretRecord, Store } from '../../store/store.js';
import { ApiError } from '../errors.js';
import { namespaceName, projectName, secretName as secretNameSchema } from '../names.js';
import { type AnyRoute, defineRoute } from '../route.js';
import { requireNamespace, requireProject } from './projects.js';
import { timestamp } from './schemas.js';

const secretSchema = z
  .object({
    name: z.string(),
    namespace: z.string().nullable().describe('null: a project-level secret'),
    digest: z.string().describe('a digest of the ciphertext, never the value'),
    updated_at: timestamp,
  })
  .loose();

const secretJson = (s: SecretRecord) => ({
  name: s.name,
  namespace: s.namespaceName,
  digest: s.digest,
  updated_at: s.updatedAt.toISOString(),
});

/** Largest secret value, decoded: credentials and keys fit many times over. */
export const SECRET_VALUE_MAX = 64 * 1024;
const BASE64_MAX = Math.ceil(SECRET_VALUE_MAX / 3) * 4;

/** Padded standard base64, checked in one pass (a pattern over megabytes would exhaust the stack). */
export function isBase64(s: string): boolean {
  if (s.length % 4 !== 0) return false;
  const padding = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  for (let i = 0; i < s.length - padding; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2b ||
      c === 0x2f;
    if (!ok) return false;
  }
  return true;
}

function decodedLength(b64: string): number {
  return (b64.length / 4) * 3 - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0);
}

const params = z.object({ project: projectName, name: secretNameSchema });
const body = z.object({
  value: z
    .string()
    .max(BASE64_MAX, {
      message: `must encode at most ${SECRET_VALUE_MAX / 1024} KiB (${BASE64_MAX} base64 characters)`,
      abort: true,
    })
    .refine(isBase64, { message: 'must be base64-encoded', abort: true })
    .refine((v) => decodedLength(v) <= SECRET_VALUE_MAX, `must encode at most ${SECRET_VALUE_MAX / 1024} KiB`)
    .describe('the secret value, base64-encoded'),
  namespace_name: namespaceName.nullable().optional(),
});
/** Room for the largest value and its JSON wrapping; anything bigger is refused before parsing. */
const SECRET_BODY_LIMIT = 256 * 1024;

/** Names are upper-cased (the schema already checked their characters); `_OPTIMUS_` is reserved. */
function secretName(raw: string): string {
  const name = raw.toUpperCase();
  if (name.startsWith('_OPTIMUS_')) {
    throw new ApiError(400, 'SECRET_NAME_RESERVED', 'secret names starting with _OPTIMUS_ are reserved', [
      { path: 'params.name', message: 'reserved prefix' },
    ]);
  }
  return name;
}

export function secretRoutes(store: Store, cipher: SecretCipher): AnyRoute[] {
  const input = async (p: z.infer<typeof params>, b: z.infer<typeof body>) => {
    const name = secretName(p.name);
    const namespaceName = b.namespace_name ?? null;
    if (namespaceName) await requireNamespace(store, p.project, namespaceName);
    else await requireProject(store, p.project);
    const { ciphertext, digest } = cipher.encrypt(Buffer.from(b.value, 'base64'));
    return { projectName: p.project, name, namespaceName, ciphertext, digest };
  };
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1beta1/project/:project/secret/:name',
      summary: 'Register secret',
      tag: 'secrets',
      status: 201,
      params,
      body,
      bodyLimit: SECRET_BODY_LIMIT,
      response: z.object({ secret: secretSchema }),
      handler: async ({ params: p, body: b }) => ({
        secret: secretJson(await store.insertSecret(await input(p, b))),
      }),
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/v1beta1/project/:project/secret/:name',
      summary: 'Update secret',
      tag: 'secrets',
      params,
      body,
      bodyLimit: SECRET_BODY_LIMIT,
      response: z.object({ secret: secretSchema }),
      handler: async ({ params: p, body: b }) => {
        const updated = await store.updateSecret(await input(p, b));
        if (!updated)
          throw new ApiError(
            404,
            'SECRET_NOT_FOUND',
            `secret "${secretName(p.name)}" does not exist in project "${p.project}"`,
            [],
            'create it with POST',
          );
        return { secret: secretJson(updated) };
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/v1beta1/project/:project/secret/:name',
      summary: 'Delete secret',
      tag: 'secrets',
      params,
      query: z.object({ namespace_name: namespaceName.optional() }),
      response: z.object({ deleted: z.string() }),
      handler: async ({ params: p, query }) => {
        await requireProject(store, p.project);
        const name = secretName(p.name);
        if (!(await store.deleteSecret(p.project, name, query.namespace_name))) {
          throw new ApiError(
            404,
            'SECRET_NOT_FOUND',
            `secret "${name}" does not exist${query.namespace_name ? ` in namespace "${query.namespace_name}"` : ''}`,
          );
        }
        return { deleted: name };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/project/:project/secret',
      summary: 'List secrets',
      tag: 'secrets',
      params: z.object({ project: projectName }),
      response: z.object({ secrets: z.array(secretSchema) }),
      handler: async ({ params: p }) => {
        await requireProject(store, p.project);
        return { secrets: (await store.listSecrets(p.project)).map(secretJson) };
      },
    }),
  ];
}
