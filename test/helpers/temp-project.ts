import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';

const made: string[] = [];
afterEach(() => {
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true });
});

/** Write `files` (path → content) into a fresh temp dir, removed after the test. */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'optimus-test-'));
  made.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

export const FIXTURES = join(import.meta.dirname, '../fixtures/upstream');
export const EXAMPLE = join(import.meta.dirname, '../../examples/project');
/** The example plugin specs (a file provider of the example project). */
export const EXAMPLE_PLUGINS = join(import.meta.dirname, '../../examples/plugins');

/** A minimal v3 plugin spec; `extra` is appended verbatim (YAML). */
export function v3Plugin(name: string, extra = ''): string {
  return `version: 3
name: ${name}
plugin_versions:
  default: {image: docker.io/acme/${name}, tag: "1.0.0", entrypoint: {script: run}}
${extra}`;
}

export const PROJECT_YAML = `version: 1
project: {name: p1}
namespaces:
  - {name: ns1, job: {path: ns1/jobs}}
plugins:
  install_location: plugins
`;
