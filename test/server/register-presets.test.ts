import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createApiClient } from '../../src/cli/api-client.js';
import { registerProject } from '../../src/cli/context.js';
import { loadProjectConfig, type ProjectConfig } from '../../src/spec/project-config.js';
import { type TestServer, testServer } from '../helpers/server.js';
import { EXAMPLE, tempDir } from '../helpers/temp-project.js';

let s: TestServer;
let host: string;
beforeAll(async () => {
  s = await testServer();
  host = await s.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => s.close());

const config = (dir: string): ProjectConfig => {
  const { config, problems } = loadProjectConfig(dir);
  if (!config) throw new Error(JSON.stringify(problems));
  return config;
};

describe('project registration from optimus.yaml', () => {
  it('carries the presets file, so the server knows the presets', async () => {
    const client = createApiClient({ host });
    const { warnings } = await registerProject(client, config(EXAMPLE), ['marketing']);
    expect(warnings.map((w) => w.message)).toEqual(
      expect.arrayContaining([expect.stringContaining('"audit-output"')]),
    );
    const stored = (await s.store.getProject('acme-analytics'))!;
    const file = parse(readFileSync(join(EXAMPLE, 'presets.yaml'), 'utf8')).presets;
    expect(stored.windowPresets).toEqual(file);
  });

  it('sends an empty set without a presets file, so every preset is refused', async () => {
    const dir = tempDir({ 'optimus.yaml': 'version: 1\nproject: {name: bare}\nnamespaces: []\n' });
    await registerProject(createApiClient({ host }), config(dir));
    expect((await s.store.getProject('bare'))!.windowPresets).toEqual({});
  });
});
