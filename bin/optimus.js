#!/usr/bin/env node
// The bundled CLI (scripts/bundle-cli.js) when it is at least as new as the compiled one; after a
// bare `tsc` build it would be stale, and the compiled modules are used instead.
import { statSync } from 'node:fs';

const mtime = (file) => statSync(new URL(file, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const entry =
  mtime('../dist/bundle/main.js') >= mtime('../dist/cli/main.js')
    ? '../dist/bundle/main.js'
    : '../dist/cli/main.js';
import(entry).then((m) => m.main(process.argv));
