/** Builds the bq2bq plugin into one executable file (mode 0755); returns its path. */
export function buildSqlResolver(outFile?: string): Promise<string>;
/** Bundles any plugin written on the SDK (`entry`, TypeScript or JavaScript) into one executable. */
export function bundlePlugin(entry: string, outFile: string): Promise<string>;
