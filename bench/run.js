// `npm run bench`: every bench/*.bench.js, a table each, all figures written to bench/results/.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv.slice(2);
const dir = import.meta.dirname;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => !only.length || only.some((o) => f.startsWith(o)))
  .sort();
mkdirSync(join(dir, 'results'), { recursive: true });
const all = [];
for (const f of files) {
  process.stdout.write(`\n# ${f}\n`);
  const mod = await import(join(dir, f));
  const result = await mod.run();
  console.table(result.rows.map((r) => ({ ...r, value: Number(r.value.toFixed(r.value < 10 ? 3 : 1)) })));
  writeFileSync(
    join(dir, 'results', `${result.name}.json`),
    `${JSON.stringify({ at: new Date().toISOString(), ...result }, null, 2)}\n`,
  );
  all.push(result);
}
writeFileSync(
  join(dir, 'results', 'all.json'),
  `${JSON.stringify({ at: new Date().toISOString(), results: all }, null, 2)}\n`,
);
