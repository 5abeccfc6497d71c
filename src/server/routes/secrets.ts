/** Secrets: stored encrypted, listed by name, namespace and digest, never returned. */
import { z } from 'zod';
import type { SecretCipher } from '../../services/secret-cipher.js';
import type { SecretRecord, Store } from '../../store/store.js';
import { ApiError } from '../errors.js';
import { type AnyRoute, defineRoute } from '../route.js';
import { requireNamespace, requireProject } from './projects.js';

const secretJson = (s: SecretRecord) => ({
  name: s.name,
  namespace: s.namespaceName,
  digest: s.digest,
  updated_at: s.updatedAt.toISOString(),
});

const params = z.object({ project: z.string().min(1), name: z.string().min(1) });
const body = z.object({
  value: z
    .string()
    .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be base64-encoded')
    .describe('the secret value, base64-encoded'),
  namespace_name: z.string().min(1).nullable().optional(),
});

/** Names are upper-cased; they must work as `{{ .secret.NAME }}`; `_OPTIMUS_` is reserved. */
function secretName(raw: string): string {
  const name = raw.toUpperCase();
  if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) {
    throw new ApiError(
      400,
      'SECRET_NAME_INVALID',
      `secret name "${raw}" must be letters, digits and _ (not starting with a digit)`,
      [{ path: 'params.name', message: 'invalid secret name' }],
    );
  }
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
      query: z.object({ namespace_name: z.string().min(1).optional() }),
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
      params: z.object({ project: z.string().min(1) }),
      handler: async ({ params: p }) => {
        await requireProject(store, p.project);
        return { secrets: (await store.listSecrets(p.project)).map(secretJson) };
      },
    }),
  ];
}
