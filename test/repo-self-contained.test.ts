import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SCANNED = ['src', 'test', 'scripts', 'bench', 'bin', 'examples', 'docs', 'package.json', '.ci'];

function* files(path: string): Generator<string> {
  const st = statSync(path);
  if (st.isFile()) {
    yield path;
    return;
  }
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'fixtures' || entry.startsWith('.plugins')) continue;
    yield* files(join(path, entry));
  }
}

describe('the repository', () => {
  it('reads nothing outside itself (a clone anywhere must build, test and run)', () => {
    const offenders: string[] = [];
    for (const top of SCANNED) {
      for (const file of files(join(ROOT, top))) {
        if (file === import.meta.filename) continue;
        const text = readFileSync(file, 'latin1');
        if (/\.\.\/shared\b|\/work\/shared\b/.test(text)) offenders.push(relative(ROOT, file));
      }
    }
    expect(offenders).toEqual([]);
  });
});
