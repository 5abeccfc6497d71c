/** The bundled example plugin installs like any binary plugin: the installer's handshake accepts its spec. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRpcProcess } from '../../src/plugins/protocol/rpc-process.js';
import { runOptimus } from '../helpers/cli.js';
import { buildSqlResolver } from '../helpers/sql-resolver.js';
import { tempDir } from '../plugins/helpers.js';

describe('the bq2bq bundle', () => {
  it('installs through the file provider with `optimus plugin install`, and answers from where it is installed', async () => {
    const root = tempDir('optimus-sdk-');
    mkdirSync(join(root, 'artifacts'));
    await buildSqlResolver(join(root, 'artifacts'));
    writeFileSync(
      join(root, 'optimus.yaml'),
      `version: 1
plugins:
  install_location: .plugins
  providers:
    - {name: local, type: file, root: artifacts}
  list:
    - {name: bq2bq, provider: local, url: bq2bq}
`,
    );
    const r = runOptimus(['plugin', 'install', '-c', join(root, 'optimus.yaml'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().plugins).toEqual([
      expect.objectContaining({
        name: 'bq2bq',
        status: 'installed',
        kind: 'binary',
        version: '1.0.0',
        dialect: 'v3',
        warnings: [],
      }),
    ]);

    const installed = startRpcProcess(join(root, '.plugins', 'bq2bq'), { label: 'bq2bq' });
    try {
      const res = await installed.call('generate_dependencies', {
        job: { project: 'acme', namespace: 'mart', name: 'revenue', labels: {} },
        config: { PROJECT: 'acme', DATASET: 'mart', TABLE: 'revenue' },
        assets: { 'query.sql': 'SELECT * FROM sales.orders' },
      });
      expect(res).toEqual({ dependencies: ['bigquery://acme:sales.orders'] });
    } finally {
      await installed.close();
    }
  });
});
