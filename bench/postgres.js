// Benchmarks reuse the tests' throwaway-PostgreSQL helper (test/helpers/postgres.ts), transpiled
// on the fly: it only uses node builtins, so this keeps one implementation of the cluster logic.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export async function startPostgres() {
  const { default: ts } = await import('typescript');
  const src = readFileSync(join(import.meta.dirname, '../test/helpers/postgres.ts'), 'utf8');
  const js = ts.transpileModule(src, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const dir = mkdtempSync(join(tmpdir(), 'optimus-bench-pg-'));
  try {
    writeFileSync(join(dir, 'postgres.mjs'), js);
    return await (await import(pathToFileURL(join(dir, 'postgres.mjs')).href)).startPostgres();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
