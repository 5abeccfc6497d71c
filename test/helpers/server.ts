import type { FastifyInstance } from 'fastify';
import { createApp } from '../../src/server/app.js';
import { loadPluginRegistry } from '../../src/server/plugin-registry.js';
import { createSecretCipher } from '../../src/services/secret-cipher.js';
import { deployPayload, validateProject } from '../../src/services/validate-project.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/store.js';
import { EXAMPLE, EXAMPLE_PLUGINS } from './temp-project.js';

export const APP_KEY = 'k'.repeat(32);

export interface TestServer {
  app: FastifyInstance;
  store: Store;
  close(): Promise<void>;
}

/** The API in-process over an in-memory embedded store, serving the example project's plugins. */
export async function testServer(opts: { tokens?: string[]; store?: Store } = {}): Promise<TestServer> {
  const store = opts.store ?? (await createStore({}));
  const app = await createApp({
    store,
    plugins: await loadPluginRegistry(EXAMPLE_PLUGINS),
    cipher: createSecretCipher(APP_KEY),
    tokens: opts.tokens ?? [],
    version: 'test',
  });
  return {
    app,
    store,
    async close() {
      await app.close();
      if (!opts.store) await store.close();
    },
  };
}

/** The example project's jobs of one namespace, as a deploy request body. */
export function exampleJobs(namespace: string): Record<string, unknown>[] {
  return deployPayload(validateProject({ dir: EXAMPLE }), namespace);
}

/** Register the example project (with its hook rules) and both namespaces. */
export async function registerExample(app: FastifyInstance): Promise<void> {
  const r = await app.inject({
    method: 'POST',
    url: '/api/v1beta1/project',
    payload: {
      project: {
        name: 'acme-analytics',
        config: { warehouse: 'acme_dw' },
        plugin_dependencies: ['audit-output >> notify-team,publish', 'check-source >> audit-input'],
      },
    },
  });
  if (r.statusCode !== 200) throw new Error(r.body);
  for (const ns of ['marketing', 'finance']) {
    const n = await app.inject({
      method: 'POST',
      url: '/api/v1beta1/project/acme-analytics/namespace',
      payload: { namespace: { name: ns } },
    });
    if (n.statusCode !== 200) throw new Error(n.body);
  }
}
