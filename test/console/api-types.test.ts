/**
 * The console's API types (console/src/api/schema.d.ts) are generated from the server's OpenAPI
 * document: regenerated here from src/ and compared with the committed file, so a route change
 * that the console has not caught up with fails the suite instead of failing in a browser.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { loadPluginRegistry } from '../../src/server/plugin-registry.js';
import { createSecretCipher } from '../../src/services/secret-cipher.js';
import { createStore } from '../../src/store/create-store.js';

const SCRIPT = join(import.meta.dirname, '../../scripts/gen-console-api.js');

interface Generator {
  SCHEMA_FILE: string;
  openApiOf(mod: object): Promise<{ paths: Record<string, unknown> }>;
  renderSchema(doc: object): Promise<string>;
}

it('console/src/api/schema.d.ts matches the API the server declares', async () => {
  const gen = (await import(pathToFileURL(SCRIPT).href)) as Generator;
  const doc = await gen.openApiOf({ createApp, createStore, loadPluginRegistry, createSecretCipher });
  // The routes the console calls are in the document, with their answers described.
  for (const path of [
    '/api/v1beta1/whoami',
    '/api/v1beta1/jobs',
    '/api/v1beta1/deploys',
    '/api/v1beta1/plugins/{name}/usage',
  ])
    expect(Object.keys(doc.paths)).toContain(path);
  const fresh = await gen.renderSchema(doc);
  const committed = readFileSync(gen.SCHEMA_FILE, 'utf8');
  if (fresh !== committed) {
    const a = committed.split('\n');
    const b = fresh.split('\n');
    const line = a.findIndex((l, i) => l !== b[i]);
    expect.fail(
      `console/src/api/schema.d.ts is stale (first difference at line ${line + 1}: ${JSON.stringify(a[line])} → ${JSON.stringify(b[line])}): run \`npm run gen:api\` and commit the result`,
    );
  }
});
