import { chmodSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { loadPluginRegistry } from '../../src/server/plugin-registry.js';
import { tempDir, v3Plugin } from '../helpers/temp-project.js';

const BINARY = join(import.meta.dirname, '../../examples/binary-plugin/row-count-check');

describe('server plugin registry', () => {
  it('serves YAML specs and binary plugins through their handshake, under the installed name', async () => {
    const dir = tempDir({ 'optimus-plugin-audit.yaml': v3Plugin('audit'), broken: '#!/bin/sh\nexit 3\n' });
    copyFileSync(BINARY, join(dir, 'row-check'));
    chmodSync(join(dir, 'row-check'), 0o755);
    chmodSync(join(dir, 'broken'), 0o755);
    const reg = await loadPluginRegistry(dir);
    expect(reg.list().map((s) => `${s.plugin.name}:${s.kind}`)).toEqual(['audit:yaml', 'row-check:binary']);
    expect(reg.problems).toMatchObject([
      { code: 'PLUGIN_HANDSHAKE_FAILED', severity: 'warning', file: join(dir, 'broken') },
    ]);
    const files = unzipSync(reg.zip());
    expect(Object.keys(files).sort()).toEqual(['optimus-plugin-audit.yaml', 'optimus-plugin-row-check.yaml']);
    expect(new TextDecoder().decode(files['optimus-plugin-row-check.yaml'])).toContain('name: row-check');
  });

  it('serves nothing, with a warning that says how to install, when the folder is missing', async () => {
    const reg = await loadPluginRegistry(join(tempDir(), 'nope'));
    expect(reg.list()).toEqual([]);
    expect(reg.problems).toMatchObject([
      { severity: 'warning', hint: expect.stringContaining('--install-plugins') },
    ]);
  });
});
