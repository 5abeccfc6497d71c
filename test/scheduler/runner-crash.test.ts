import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, PLUGIN_FILES } from './runner-kit.js';

const root = mkdtempSync(join(tmpdir(), 'optimus-runner-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function child(args: string[]) {
  const c = spawn(process.execPath, [join(import.meta.dirname, 'crash-runner-child.mjs'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  c.stdout.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => c.on('exit', (code) => resolve(code)));
  return { c, exited, out: () => out };
}

describe('a server killed while a node runs', () => {
  it('interrupts the node on restart, kills what it left running, retries it and finishes the run', async () => {
    const dataDir = join(root, 'data');
    const pluginDir = join(root, 'plugins');
    const work = join(root, 'work');
    mkdirSync(pluginDir, { recursive: true });
    mkdirSync(work);
    for (const [name, text] of Object.entries(PLUGIN_FILES)) writeFileSync(join(pluginDir, name), text);
    const args = [dataDir, pluginDir, work];

    const first = child([...args, 'first']);
    try {
      await expect.poll(first.out, { timeout: 60_000, interval: 50 }).toMatch(/running \d+/);
    } finally {
      first.c.kill('SIGKILL');
      await first.exited;
    }
    // The node's process outlives the server that started it.
    const leftover = Number(readFileSync(join(work, 'pids'), 'utf8').trim());
    expect(alive(leftover)).toBe(true);

    writeFileSync(join(work, 'second'), '');
    const second = child([...args, 'second']);
    expect(await second.exited).toBe(0);
    const { run, logs } = JSON.parse(second.out()) as {
      run: { status: string; nodes: { attempt: number; status: string }[] };
      logs: string[];
    };
    expect(run.status).toBe('succeeded');
    expect(run.nodes[0]).toMatchObject({ status: 'succeeded', attempt: 2 });
    expect(logs).toContain('1 stdout sleeping');
    expect(logs).toContain('1 system interrupted: the server stopped while it ran');
    expect(logs).toContain('2 stdout finished');
    expect(alive(leftover)).toBe(false);
    // Ran twice: once before the kill, once after; never both at once (the first was dead first).
    expect(readFileSync(join(work, 'pids'), 'utf8').trim().split('\n')).toHaveLength(2);
  }, 120_000);
});
