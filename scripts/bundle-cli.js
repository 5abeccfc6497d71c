// Bundles the built CLI (dist/cli/main.js) with the pure-JavaScript packages its commands load at
// start into dist/bundle/, one chunk per lazily-loaded command: `bin/optimus.js` then reads a few
// files instead of resolving and compiling ~200 modules, which was a third of an unchanged deploy's
// time. Packages with native parts, WebAssembly or files found at run time (the store, the server,
// cloud SDKs) stay external and load from node_modules as before. dist/bundle sits two folders
// below the package like dist/cli, so the few paths built from import.meta resolve the same.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
/** Bundled: pure JavaScript, loaded by everyday commands. Every other package stays external. */
const BUNDLED = new Set([
  'zod',
  'yaml',
  'js-yaml',
  'commander',
  'picocolors',
  'cli-progress',
  'safe-stable-stringify',
  'fastest-levenshtein',
  'p-limit',
  'yocto-queue',
  'cron-parser',
  'luxon',
  'jsonpath-plus',
  'fflate',
  '@optimus-ts/plugin-sdk',
]);
const packageOf = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

const outdir = join(root, 'dist/bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist/cli/main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // CommonJS packages inside an ES module bundle call require for Node's own modules.
  banner: {
    js: "import { createRequire as __optimusRequire } from 'node:module'; const require = __optimusRequire(import.meta.url);",
  },
  plugins: [
    {
      name: 'externals',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('node:') || !BUNDLED.has(packageOf(args.path))
            ? { path: args.path, external: true }
            : undefined,
        );
      },
    },
  ],
});
