#!/usr/bin/env node
/**
 * Bundles the bq2bq plugin into ONE executable file: the SDK, node-sql-parser and all included, so
 * it runs from any folder with no node_modules. Usage: `node examples/sql-resolver/build.mjs [out]`
 * (default examples/sql-resolver/dist/bq2bq).
 */
import { chmod, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const sdk = resolve(here, '../../packages/plugin-sdk/src');

/** Builds the plugin to `outFile` (mode 0755) and returns its path. */
export function buildSqlResolver(outFile = join(here, 'dist', 'bq2bq')) {
  return bundlePlugin(join(here, 'src', 'main.ts'), outFile);
}

/** Bundles any plugin written on the SDK (`entry`, TypeScript or JavaScript) into one executable. */
export async function bundlePlugin(entry, outFile) {
  await mkdir(dirname(outFile), { recursive: true });
  await build({
    entryPoints: [entry],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    // ESM: CommonJS would fail under a "type": "module" package. Node 20.19+ reads an extension-less
    // file as ESM from its syntax; --experimental-detect-module makes 20.17 and 20.18 do the same.
    // node-sql-parser is CommonJS and calls require(), hence the shim.
    format: 'esm',
    banner: {
      js: "#!/usr/bin/env -S node --experimental-detect-module\nimport { createRequire as __optimusCreateRequire } from 'node:module';\nconst require = __optimusCreateRequire(import.meta.url);",
    },
    // The SDK from source: the bundle does not depend on the workspace having been built.
    alias: {
      '@optimus-ts/plugin-sdk/sql': join(sdk, 'sql.ts'),
      '@optimus-ts/plugin-sdk': join(sdk, 'index.ts'),
    },
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  await chmod(outFile, 0o755);
  return outFile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildSqlResolver(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(out);
}
