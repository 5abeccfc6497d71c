// `npm run demo`: the whole path that exists so far, on the example project: validate the plugins,
// validate every job of every namespace, then print each job's run graph.
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const project = relative(process.cwd(), join(root, 'examples/project')) || '.';
const bin = join(root, 'bin/optimus.js');

function step(title, args) {
  process.stdout.write(`\n\x1b[1m$ optimus ${args.join(' ')}\x1b[0m  # ${title}\n`);
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`demo step failed (exit ${r.status}): optimus ${args.join(' ')}\n`);
    process.exit(r.status ?? 1);
  }
}

step('check the plugin specs', ['plugin', 'validate', join(project, 'plugins')]);
step('validate every job of every namespace', ['job', 'validate', '--dir', project]);
for (const job of ['campaign-performance', 'revenue-daily', 'attribution', 'ledger-export']) {
  step(`run order of ${job}`, ['job', 'graph', job, '--dir', project]);
}
process.stdout.write(
  '\nDemo done. Try `npx optimus job graph revenue-daily --dir examples/project --json`.\n',
);
