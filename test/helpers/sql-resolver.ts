/** Plugins written on the SDK, bundled into one executable each, for tests. */
import { join } from 'node:path';
import { buildSqlResolver as build, bundlePlugin as bundle } from '../../examples/sql-resolver/build.mjs';

/** The example bq2bq plugin (examples/sql-resolver) built into `dir` (once per test file); returns the executable. */
export async function buildSqlResolver(dir: string): Promise<string> {
  return build(join(dir, 'bq2bq'));
}

/** Any plugin source on the SDK (`@optimus-ts/plugin-sdk` imports) bundled to `outFile`; returns it. */
export async function bundlePlugin(entry: string, outFile: string): Promise<string> {
  return bundle(entry, outFile);
}
