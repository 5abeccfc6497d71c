/**
 * `job create` in a real terminal: tmux runs the CLI in a pseudo-terminal, the test types answers
 * with send-keys and reads the screen with capture-pane.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type ServeProcess, startServe } from '../helpers/serve-process.js';
import { EXAMPLE } from '../helpers/temp-project.js';

const BIN = join(import.meta.dirname, '../../bin/optimus.js');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
/** A tmux server of our own (its own socket), so nothing else running tmux is touched. */
const SOCKET = `optimus-survey-${process.pid}`;
const SESSION = 'survey';

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', SESSION);
const type = (text: string) => tmux('send-keys', '-t', SESSION, '-l', text);
const press = (...keys: string[]) => tmux('send-keys', '-t', SESSION, ...keys);

/** Wait until the screen shows `text` (the CLI is a separate process; it answers when it answers). */
async function waitFor(text: string, timeoutMs = 20_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = screen();
    if (s.includes(text)) return s;
    if (Date.now() > end) throw new Error(`the terminal never showed "${text}"; it shows:\n${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Move a select list's cursor (❯) to `choice`, then pick it. */
async function choose(choice: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    if (screen().includes(`❯ ${choice}`)) {
      press('Enter');
      return;
    }
    press('Down');
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`"${choice}" is not in the list:\n${screen()}`);
}

async function answer(prompt: string, text: string): Promise<void> {
  await waitFor(`? ${prompt}`);
  if (text) type(text);
  press('Enter');
}

let server: ServeProcess;
let root: string;
let project: string;

describe.skipIf(!hasTmux)('job create in a terminal', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'optimus-tty-'));
    project = join(root, 'project');
    cpSync(EXAMPLE, project, { recursive: true });
    server = await startServe(join(root, 'data'));
  }, 60_000);
  afterAll(async () => {
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
    server?.child.kill('SIGTERM');
    await server?.exited;
    rmSync(root, { recursive: true, force: true });
  });

  it('asks the server’s questions, re-asks a refused answer, follows a subquestion and writes job.yaml', async () => {
    const command = `env NO_COLOR=1 ${process.execPath} ${BIN} job create --host ${server.url}; echo EXIT=$?; sleep 600`;
    tmux('new-session', '-d', '-s', SESSION, '-x', '160', '-y', '50', '-c', project, command);

    await waitFor('? Namespace');
    await choose('finance');
    await answer('Job name', 'orders-tty');
    await answer('Directory for the job', ''); // the default: finance/jobs/orders-tty
    await answer('Owner', 'finance-data@acme.example');
    await waitFor('? Task plugin');
    await choose('warehouse-load');
    await answer('Schedule start date', '2026-05-01');
    await answer('Schedule interval', ''); // the default: 0 2 * * *
    await waitFor('? Window');
    await choose('hourly');
    await answer('Warehouse project', 'acme');
    await answer('Dataset', 'sales');
    await answer('Target table', 'Bad-Table');
    const refused = await waitFor('lower case and _ only');
    expect(refused).toContain('"Bad-Table": lower case and _ only');
    press('C-u');
    type('orders');
    press('Enter');
    await waitFor('? Load method');
    await choose('REPLACE');
    await answer('Partition filter to replace', "dt = '{{ .DSTART | Date }}'");
    const done = await waitFor('EXIT=');

    expect(done).toContain('EXIT=0');
    expect(done).toContain(
      'created finance/jobs/orders-tty/job.yaml (task warehouse-load, namespace finance)',
    );
    expect(done).toContain('✔ Directory for the job (relative to the project root) finance/jobs/orders-tty');
    const job = parse(readFileSync(join(project, 'finance/jobs/orders-tty/job.yaml'), 'utf8'));
    expect(job).toMatchObject({
      version: 3,
      name: 'orders-tty',
      owner: 'finance-data@acme.example',
      schedule: { start_date: '2026-05-01', interval: '0 2 * * *' },
      task: {
        name: 'warehouse-load',
        config: {
          PROJECT: 'acme',
          DATASET: 'sales',
          TABLE: 'orders',
          LOAD_METHOD: 'REPLACE',
          PARTITION_FILTER: "dt = '{{ .DSTART | Date }}'",
          WH_TOKEN: '{{ .secret.WH_TOKEN }}',
        },
        window: { size: '1h', truncate_to: 'h' },
      },
      labels: { orchestrator: 'optimus' },
    });
  });
});
