/**
 * Bundles a binary plugin written on the SDK into ONE executable file (esbuild), so it runs from any
 * folder with no node_modules: the SDK, node-sql-parser and the author's own dependencies included.
 * The output mirrors examples/sql-resolver/build.mjs: ESM with a `node` shebang, node20, minified.
 *
 * A plugin folder fresh from `optimus plugin init` has no node_modules. Its imports of
 * `@optimus-ts/plugin-sdk` (and `/sql`, `/protocol`) resolve normally first, so a project that
 * installed its own SDK gets that one, and otherwise fall back to the SDK optimus ships. Only the SDK
 * falls back: any other missing package is a build error, not optimus's copy bundled silently.
 *
 * esbuild is imported lazily: other commands do not pay for loading it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import type { Plugin as EsbuildPlugin, Message } from 'esbuild';
import { OptimusError } from '../core/errors.js';
import { shown } from './project.js';

export const SDK_PACKAGE = '@optimus-ts/plugin-sdk';

/**
 * The first line runs the file with node. ESM, not CommonJS, so a bundle inside a `"type": "module"`
 * package still loads; node 20.19+ detects ESM in an extension-less file by itself, and
 * --experimental-detect-module makes 20.17 and 20.18 do the same. node-sql-parser is CommonJS and
 * calls require(), hence the shim.
 */
const BANNER =
  "#!/usr/bin/env -S node --experimental-detect-module\nimport { createRequire as __optimusCreateRequire } from 'node:module';\nconst require = __optimusCreateRequire(import.meta.url);";

/** How many compile errors a failed build lists; the rest are counted. */
const MAX_ERRORS = 10;

/**
 * The SDK package folder optimus itself resolves, found at run time (the CLI may run from
 * dist/cli/ or from the dist/bundle/ bundle). Undefined when optimus ships without it.
 */
export function shippedSdkDir(): string | undefined {
  let main: string;
  try {
    // The package exports no ./package.json, so resolve its main entry and walk up to its folder.
    main = createRequire(import.meta.url).resolve(SDK_PACKAGE);
  } catch {
    return undefined;
  }
  for (let dir = dirname(main); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (!existsSync(pkg)) continue;
    try {
      if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === SDK_PACKAGE) return dir;
    } catch {
      // an unreadable package.json on the way up is not the SDK's: keep walking
    }
  }
  return undefined;
}

/**
 * Resolves `@optimus-ts/plugin-sdk[/sub]` as esbuild would, and only when that fails, inside the SDK
 * optimus ships (its own imports, node-sql-parser, then resolve from there as usual).
 */
function sdkFallback(): EsbuildPlugin {
  return {
    name: 'optimus-plugin-sdk',
    setup(build) {
      const filter = new RegExp(`^${SDK_PACKAGE.replace(/[/.]/g, '\\$&')}(/.*)?$`);
      build.onResolve({ filter }, async (args) => {
        if (args.pluginData === 'optimus-sdk-fallback') return undefined;
        const normal = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'optimus-sdk-fallback',
        });
        if (!normal.errors.length) return normal;
        const sdk = shippedSdkDir();
        if (!sdk) return undefined;
        // Resolving from inside the shipped SDK's folder applies its package.json "exports".
        const shipped = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: sdk,
          pluginData: 'optimus-sdk-fallback',
        });
        return shipped.errors.length ? undefined : shipped;
      });
    },
  };
}

/** "<file relative to cwd>:<line>:<col>: <text>" (col 1-based), or just the text without a location. */
function formatMessage(m: Message, workDir: string): string {
  const loc = m.location;
  if (!loc?.file) return m.text;
  return `${shown(resolve(workDir, loc.file))}:${loc.line}:${loc.column + 1}: ${m.text}`;
}

function buildFailed(errors: readonly Message[], entry: string, workDir: string): OptimusError {
  const lines = errors.slice(0, MAX_ERRORS).map((m) => formatMessage(m, workDir));
  if (errors.length > MAX_ERRORS) lines.push(`… and ${errors.length - MAX_ERRORS} more`);
  const unresolved = errors.some((m) => m.text.startsWith('Could not resolve'));
  return new OptimusError(
    'PLUGIN_BUILD_FAILED',
    `building ${shown(resolve(entry))} failed with ${errors.length} error${errors.length === 1 ? '' : 's'}:\n  ${lines.join('\n  ')}`,
    {
      category: 'invalid',
      hint: unresolved
        ? 'install the missing package in the plugin folder (npm install), or fix the import path'
        : 'fix the code at the places listed, then build again',
    },
  );
}

/** esbuild's own failure (a BuildFailure with .errors), or undefined for anything else. */
function errorsOf(e: unknown): Message[] | undefined {
  const errors = (e as { errors?: unknown })?.errors;
  return Array.isArray(errors) && errors.length ? (errors as Message[]) : undefined;
}

/**
 * Bundles `entry` (TypeScript or JavaScript) into the executable `outFile` (mode 0755). The file is
 * written beside outFile and renamed over it, so a failed build leaves the previous executable.
 * Compile errors throw PLUGIN_BUILD_FAILED naming file:line:col of each.
 */
export async function bundlePluginEntry(
  entry: string,
  outFile: string,
): Promise<{ bytes: number; ms: number }> {
  const started = performance.now();
  const { build } = await import('esbuild');
  const workDir = process.cwd();
  let contents: Uint8Array;
  try {
    const result = await build({
      entryPoints: [entry],
      outfile: outFile,
      absWorkingDir: workDir,
      write: false,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      banner: { js: BANNER },
      plugins: [sdkFallback()],
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
    });
    const out = result.outputFiles.find((f) => f.path === resolve(outFile)) ?? result.outputFiles[0];
    if (!out)
      throw new OptimusError('PLUGIN_BUILD_FAILED', `building ${shown(resolve(entry))} produced no output`);
    contents = out.contents;
  } catch (e) {
    const errors = errorsOf(e);
    if (errors) throw buildFailed(errors, entry, workDir);
    throw e;
  }
  await writeExecutable(outFile, contents);
  return { bytes: contents.byteLength, ms: Math.round(performance.now() - started) };
}

/** Temp file in the same folder (same filesystem), chmod, then rename: never a half-written executable. */
async function writeExecutable(outFile: string, contents: Uint8Array): Promise<void> {
  await mkdir(dirname(outFile), { recursive: true });
  const tmp = join(dirname(outFile), `.${basename(outFile)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, contents, { mode: 0o755 });
    // writeFile's mode is masked by the umask; the executable must be 0755 whatever it is.
    await chmod(tmp, 0o755);
    await rename(tmp, outFile);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
