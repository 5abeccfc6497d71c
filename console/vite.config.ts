// The console's build (`vite build console`: the root is this folder, the output console/dist).
// Vite 8 compiles TSX itself (oxc), so no React plugin is needed. Relative asset URLs (`base: './'`)
// let the same build be served at `/` or under a proxy's path prefix.
import { defineConfig } from 'vite';

// The console's own tsconfig has browser types only; the config runs in Node.
declare const process: { env: Record<string, string | undefined> };
/** `OPTIMUS_API=http://127.0.0.1:9100 npx vite console`: the dev server forwards API calls there. */
const api = process.env.OPTIMUS_API;

export default defineConfig({
  base: './',
  oxc: { jsx: { runtime: 'automatic' } },
  ...(api ? { server: { proxy: { '/api': { target: api, changeOrigin: true } } } } : {}),
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Nothing inline: index.html must run under `Content-Security-Policy: default-src 'self'`.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    rolldownOptions: {
      // React libraries mark their modules "use client" for server components; a browser bundle has none.
      onLog(level, log, handler) {
        if (log.code === 'MODULE_LEVEL_DIRECTIVE') return;
        handler(level, log);
      },
    },
  },
});
