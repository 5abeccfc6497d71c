/**
 * `optimus plugin build` and authoring/build.ts: a plugin written on the SDK, in a folder with no
 * node_modules, bundles into one executable that answers a handshake; compile errors name
 * file:line:col and leave the previous executable in place.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundlePluginEntry } from '../../src/authoring/build.js';
import { isOptimusError, type OptimusError } from '../../src/core/errors.js';
import { handshake } from '../../src/plugins/protocol/handshake.js';
import { runOptimus } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-project.js';

/**
 * A binary plugin project as `plugin init --kind binary` lays it out. Its description is computed
 * at start-up with the SDK's SQL parser, so a handshake proves node-sql-parser was bundled too.
 */
function sdkProject(name = 'tiny', tag = '0.3.0'): string {
  return tempDir({
    'package.json': JSON.stringify({ name, version: '0.1.0', private: true, type: 'module' }),
    'src/main.ts': `import { servePlugin } from '@optimus-ts/plugin-sdk';
import { extractSources } from '@optimus-ts/plugin-sdk/sql';

const sources: string[] = extractSources('select * from \`proj.ds.src\`', {}).sources;
const spec = {
  version: 3,
  name: '${name}',
  description: 'reads ' + sources.join(','),
  plugin_versions: {
    default: { image: 'docker.io/acme/${name}', tag: '${tag}', entrypoint: { script: 'run' } },
  },
};

servePlugin({ spec });
`,
  });
}

/** No node_modules folder in `dir` or any folder above it: nothing for normal resolution to find. */
function noNodeModulesAbove(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules'))) return false;
    if (d === dirname(d)) return true;
  }
}

async function buildError(entry: string, out: string): Promise<OptimusError> {
  try {
    await bundlePluginEntry(entry, out);
  } catch (e) {
    if (isOptimusError(e)) return e;
    throw e;
  }
  throw new Error('the build succeeded');
}

describe('bundlePluginEntry', () => {
  it('bundles an SDK plugin from a folder without node_modules into one executable that answers a handshake', async () => {
    const dir = sdkProject();
    expect(noNodeModulesAbove(dir)).toBe(true);
    const out = join(dir, 'dist', 'tiny');
    const r = await bundlePluginEntry(join(dir, 'src', 'main.ts'), out);

    expect(r.bytes).toBe(statSync(out).size);
    expect(statSync(out).mode & 0o777).toBe(0o755);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe(
      '#!/usr/bin/env -S node --experimental-detect-module',
    );
    // Only the executable: no temp file left beside it.
    expect(readdirSync(join(dir, 'dist'))).toEqual(['tiny']);

    const hs = await handshake(out, { label: 'tiny', timeoutMs: 10_000 });
    expect(hs.plugin.name).toBe('tiny');
    expect(hs.plugin.versions.default!.tag).toBe('0.3.0');
    expect(hs.plugin.description).toBe('reads bigquery://proj:ds.src');
  });

  it("prefers the project's own @optimus-ts/plugin-sdk when it has one", async () => {
    const dir = sdkProject('own');
    // A stand-in SDK in the project's node_modules: it answers the handshake with its own mark.
    const sdk = join(dir, 'node_modules', '@optimus-ts', 'plugin-sdk');
    mkdirSync(sdk, { recursive: true });
    writeFileSync(
      join(sdk, 'package.json'),
      JSON.stringify({
        name: '@optimus-ts/plugin-sdk',
        version: '9.9.9',
        type: 'module',
        exports: { '.': './index.js', './sql': './sql.js' },
      }),
    );
    writeFileSync(join(sdk, 'sql.js'), 'export const extractSources = () => ({ sources: ["local"] });\n');
    writeFileSync(
      join(sdk, 'index.js'),
      `import { createInterface } from 'node:readline';
export function servePlugin({ spec }) {
  createInterface({ input: process.stdin }).on('line', (line) => {
    const { id } = JSON.parse(line);
    process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id, result: { protocol: 1, spec } }) + '\\n');
  });
}
`,
    );
    const out = join(dir, 'dist', 'own');
    await bundlePluginEntry(join(dir, 'src', 'main.ts'), out);
    const hs = await handshake(out, { label: 'own', timeoutMs: 10_000 });
    expect(hs.plugin.description).toBe('reads local');
  });

  it('names file:line:col of each compile error and keeps the previous executable', async () => {
    const dir = sdkProject('keep');
    const entry = join(dir, 'src', 'main.ts');
    const out = join(dir, 'dist', 'keep');
    await bundlePluginEntry(entry, out);
    const before = readFileSync(out);

    writeFileSync(
      entry,
      "import { servePlugin } from '@optimus-ts/plugin-sdk';\n\nconst spec = { version: 3, name: ;\nservePlugin({ spec });\n",
    );
    const e = await buildError(entry, out);
    expect(e.code).toBe('PLUGIN_BUILD_FAILED');
    // The test runs from the repository root, so the file is shown by its absolute path (outside cwd).
    expect(e.message).toContain(`${entry}:3:34: Unexpected ";"`);
    expect(e.message).not.toMatch(/\n\s+at /);
    expect(e.hint).toBeTruthy();

    expect(readFileSync(out).equals(before)).toBe(true);
    expect(readdirSync(join(dir, 'dist'))).toEqual(['keep']);
  });

  it('reports a package the plugin imports but did not install, without bundling optimus’s own copy', async () => {
    const dir = sdkProject('missing');
    const entry = join(dir, 'src', 'main.ts');
    // `yaml` is one of optimus's own dependencies: it must not leak into a plugin that forgot it.
    writeFileSync(
      entry,
      "import { servePlugin } from '@optimus-ts/plugin-sdk';\nimport { parse } from 'yaml';\nservePlugin({ spec: parse('a: 1') });\n",
    );
    const e = await buildError(entry, join(dir, 'dist', 'missing'));
    expect(e.message).toContain(`${entry}:2:23: Could not resolve "yaml"`);
    expect(e.hint).toMatch(/npm install/);
    expect(existsSync(join(dir, 'dist', 'missing'))).toBe(false);
  });
});

describe('optimus plugin build', () => {
  it('builds dist/<name> and says where, relative to the working directory', () => {
    const dir = sdkProject('clitiny');
    const r = runOptimus(['plugin', 'build'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✓ built dist\/clitiny \([\d.]+ KiB in \d+ ms\)\n$/);
    expect(statSync(join(dir, 'dist', 'clitiny')).mode & 0o777).toBe(0o755);
  });

  it('--json: ok, executable, bytes, ms', () => {
    const dir = sdkProject('jsontiny');
    const r = runOptimus(['plugin', 'build', dir, '--json']);
    expect(r.code).toBe(0);
    const j = r.json();
    expect(j).toEqual({
      ok: true,
      kind: 'binary',
      built: true,
      executable: join(dir, 'dist', 'jsontiny'),
      bytes: statSync(join(dir, 'dist', 'jsontiny')).size,
      ms: expect.any(Number),
    });
  });

  it('exits 1 naming the error location, no stack trace, and leaves no executable', () => {
    const dir = sdkProject('broken');
    writeFileSync(join(dir, 'src', 'main.ts'), 'export const x: number = (;\n');
    const r = runOptimus(['plugin', 'build', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('src/main.ts:1:27: Unexpected ";"');
    expect(r.stderr).toMatch(/^hint: /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'dist', 'broken'))).toBe(false);

    const j = runOptimus(['plugin', 'build', '--json'], { cwd: dir }).json();
    expect(j.ok).toBe(false);
    expect(j.error.code).toBe('PLUGIN_BUILD_FAILED');
    expect(j.error.message).toContain('src/main.ts:1:27');
  });

  it('says a yaml plugin has nothing to build, and succeeds', () => {
    const dir = tempDir({
      'plugin.yaml':
        'version: 3\nname: plain\nplugin_versions:\n  default: {image: docker.io/acme/plain, tag: "1.0.0", entrypoint: {script: run}}\n',
    });
    const r = runOptimus(['plugin', 'build'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('nothing to build: plugin.yaml is a yaml plugin: it runs as written\n');
    expect(existsSync(join(dir, 'dist'))).toBe(false);
    expect(runOptimus(['plugin', 'build', dir, '--json']).json()).toEqual({
      ok: true,
      kind: 'yaml',
      built: false,
    });
  });

  it('is a usage error for a folder that holds no plugin project', () => {
    const r = runOptimus(['plugin', 'build', tempDir({ 'notes.txt': 'x' })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds no plugin\.yaml/);
  });
});
