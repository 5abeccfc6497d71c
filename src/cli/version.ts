/** The version of this package, shown by the CLI and reported by the server (one place). */
export const VERSION = '0.1.0';
