/**
 * The console's run pages in a real browser, against a server running its embedded runner: a run
 * watched while its task fails (the node turns red on the open page, the log shows its output),
 * re-running the failed node from the page (a new attempt), cancelling a run, starting a replay,
 * and the list of recent runs. The jobs here use plugins of their own that wait for a gate file,
 * so the page is known to be open before the node ends: no test depends on timing.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSseParser, followEvents, type ServerEvent } from '../../console/src/runs/sse.js';
import { STATUS_COLOR } from '../../console/src/ui/status.js';
import {
  axeCheck,
  type ConsoleServer,
  describeBrowser,
  EXAMPLE_PROJECT,
  launchBrowser,
  openConsole,
  SECRET,
  screenshot,
  startConsoleServer,
  TOKENS,
} from '../helpers/browser.js';

const P = `/api/v1beta1/project/${EXAMPLE_PROJECT}`;
const gates = mkdtempSync(join(tmpdir(), 'optimus-console-gates-'));
const FAIL_GATE = join(gates, 'fail');
const NEVER_GATE = join(gates, 'never');

/** Waits (at most a minute) for `gate` to exist, then runs `then`. */
const waitFor = (gate: string, then: string) =>
  `i=0; while [ ! -f ${gate} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; ${then}`;

const plugin = (name: string, script: string) => `version: 3
name: ${name}
description: console test plugin ${name}
plugin_versions:
  default: {image: docker.io/acme/${name}, tag: "1.0.0", entrypoint: {script: ${JSON.stringify(script)}}}
configs:
  - {name: WH_TOKEN, description: a secret the node is given but never prints}
`;

const job = (name: string, task: string) => ({
  version: 3,
  name,
  owner: 'console@acme.example',
  schedule: { start_date: '2026-01-01', interval: '0 4 * * *' },
  task: { name: task, config: { WH_TOKEN: `{{ .secret.${SECRET.name} }}` }, window: { size: '24h' } },
});

function rgb(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return `rgb(${r}, ${g}, ${b})`;
}

// The browser's own, for functions run in the page (this file's types know no DOM).
declare function getComputedStyle(e: unknown): { backgroundColor: string };
/** The colour a user sees behind an element. */
const BACKGROUND = (e: unknown) => getComputedStyle(e).backgroundColor;

let hour = 0;
/** A scheduled time of its own for each manual run (one run per job and time). */
const nextTime = () => new Date(Date.UTC(2030, 0, 1, ++hour)).toISOString();

describe('the console’s event stream reader', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('parses events split anywhere across chunks, with multi-line data, ids and comments', () => {
    const seen: ServerEvent[] = [];
    const parser = createSseParser((e) => seen.push(e));
    const text =
      ': keep-alive\n\nevent: run\ndata: {"a":\ndata: 1}\n\nevent: log\nid: 42\r\ndata: {"lines":[]}\n\ndata: plain\n\n';
    const bytes = new TextEncoder().encode(text);
    for (let i = 0; i < bytes.length; i += 3) parser.push(bytes.slice(i, i + 3));
    expect(seen).toEqual([
      { event: 'run', data: '{"a":\n1}', id: null },
      { event: 'log', data: '{"lines":[]}', id: '42' },
      { event: 'message', data: 'plain', id: null },
    ]);
  });

  it('reopens a stream that broke before its end, resuming after the last event id', async () => {
    const stream = (text: string) =>
      new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode(text));
            c.close();
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    const asked: (string | null)[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (_url: string, init: { headers: Record<string, string> }) => {
        asked.push(init.headers['Last-Event-ID'] ?? null);
        return asked.length === 1
          ? stream('event: run\ndata: {}\n\nevent: log\nid: 7\ndata: {"lines":[1]}\n\n')
          : stream('event: log\nid: 9\ndata: {"lines":[2]}\n\nevent: end\ndata: {}\n\n');
      }),
    );
    const events: string[] = [];
    const problems: boolean[] = [];
    await followEvents({
      url: 'http://optimus.test/events',
      describe: (e) => (e as { message: string }).message,
      signal: new AbortController().signal,
      onEvent: (e) => events.push(`${e.event}${e.id ? `#${e.id}` : ''}`),
      onProblem: (_m, retrying) => problems.push(retrying),
    });
    expect(asked).toEqual([null, '7']);
    expect(events).toEqual(['run', 'log#7', 'log#9', 'end']);
    expect(problems).toEqual([true]);
  });

  it('stops at a refusal and reports the server’s message', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        Response.json(
          { code: 'RUN_NOT_FOUND', message: 'job "x" has no run 3', details: [] },
          { status: 404 },
        ),
      ),
    );
    const problems: [string, boolean][] = [];
    await followEvents({
      url: 'http://optimus.test/events',
      describe: (e) => (e as { message: string }).message,
      signal: new AbortController().signal,
      onEvent: () => undefined,
      onProblem: (m, retrying) => problems.push([m, retrying]),
    });
    expect(problems).toEqual([['job "x" has no run 3', false]]);
  });
});

describeBrowser('run pages', () => {
  let server: ConsoleServer;
  let browser: Browser;

  const trigger = async (jobName: string) =>
    (
      (await server.api('POST', `${P}/job/${jobName}/run`, { scheduled_at: nextTime() })) as {
        run: { id: number };
      }
    ).run.id;
  const runPath = (jobName: string, id: number) => `#/runs/${EXAMPLE_PROJECT}/${jobName}/${id}`;
  const graphNode = (page: Page, id: number, name: string) =>
    page
      .getByRole('figure', { name: `Run graph of run ${id}, nodes coloured by state` })
      .locator(`.react-flow__node[data-id="${name}"]`);

  beforeAll(async () => {
    server = await startConsoleServer({
      tokens: true,
      runner: true,
      plugins: {
        'optimus-plugin-boom.yaml': plugin(
          'boom',
          waitFor(FAIL_GATE, 'echo "about to fail on $JOB_NAME"; echo "boom on stderr" >&2; exit 3'),
        ),
        'optimus-plugin-wait.yaml': plugin('wait', waitFor(NEVER_GATE, 'echo "should not get here"')),
        'optimus-plugin-say.yaml': plugin('say', 'echo "hello from $JOB_NAME"'),
      },
    });
    await server.api('POST', `${P}/namespace`, { namespace: { name: 'ops' } });
    await server.api('POST', `${P}/namespace/ops/deploy`, {
      jobs: [job('failing', 'boom'), job('napping', 'wait'), job('greeter', 'say')],
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(gates, { recursive: true, force: true });
  });

  it('turns a failing node red while the run is watched, shows its log, and re-runs it as a new attempt', async () => {
    expect(existsSync(FAIL_GATE)).toBe(false);
    const id = await trigger('failing');
    const c = await openConsole(browser, server.url, { token: TOKENS.full, path: runPath('failing', id) });
    try {
      const { page } = c;
      const node = graphNode(page, id, 'boom');
      // The node waits at its gate: the page shows it running, live.
      await expect.poll(() => node.getAttribute('data-status'), { timeout: 20_000 }).toBe('running');
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('Running');

      writeFileSync(FAIL_GATE, '');
      await expect.poll(() => node.getAttribute('data-status'), { timeout: 20_000 }).toBe('failed');
      expect(await node.locator('.graph-node').evaluate(BACKGROUND)).toBe(rgb(STATUS_COLOR.failed.bg));
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain('Failed');
      const log = page.getByRole('log', { name: 'Log of node boom' });
      await expect.poll(() => log.textContent()).toContain('about to fail on failing');
      expect(await log.textContent()).toContain('boom on stderr');
      const row = page.locator('tr[data-node="boom"]');
      expect(await row.locator('[data-attempt]').count()).toBe(1);
      expect(await row.textContent()).toContain('exit 3');
      await expect.poll(() => page.getByText('· final').count()).toBe(1);
      await screenshot(page, 'run-failed');
      expect(await axeCheck(page)).toEqual([]);

      await page.getByRole('button', { name: 'Re-run failed nodes' }).click();
      await page.getByRole('button', { name: 'Re-run', exact: true }).click();
      // The gate is open now: the second attempt fails at once, and the page follows it.
      await expect.poll(() => row.locator('[data-attempt]').count(), { timeout: 20_000 }).toBe(2);
      await expect.poll(() => node.getAttribute('data-status'), { timeout: 20_000 }).toBe('failed');
      const { run } = (await server.api('GET', `${P}/job/failing/run/${id}`)) as {
        run: { status: string; nodes: { name: string; attempts: { attempt: number; status: string }[] }[] };
      };
      expect(run.nodes.find((n) => n.name === 'boom')!.attempts.map((a) => [a.attempt, a.status])).toEqual([
        [1, 'failed'],
        [2, 'failed'],
      ]);
      await expect
        .poll(() => log.locator('.log-attempt').allTextContents())
        .toEqual(['attempt 1', 'attempt 2']);

      const html = await page.content();
      expect(html).not.toContain(SECRET.value);
      for (const body of await c.bodies()) expect(body).not.toContain(SECRET.value);
      // No console error, uncaught exception or Content-Security-Policy violation on the way.
      expect(c.errors).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('cancels a running run after asking, and offers a writer nothing more to cancel', async () => {
    const id = await trigger('napping');
    const c = await openConsole(browser, server.url, { token: TOKENS.full, path: runPath('napping', id) });
    try {
      const { page } = c;
      const node = graphNode(page, id, 'wait');
      await expect.poll(() => node.getAttribute('data-status'), { timeout: 20_000 }).toBe('running');
      await page.getByRole('button', { name: 'Cancel run' }).click();
      expect(await page.getByText(`Cancel run ${id}?`).count()).toBe(1);
      await page.getByRole('button', { name: 'Cancel the run' }).click();
      await expect
        .poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: 20_000 })
        .toContain('Cancelled');
      await expect.poll(() => node.getAttribute('data-status'), { timeout: 20_000 }).toBe('cancelled');
      expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
      const { run } = (await server.api('GET', `${P}/job/napping/run/${id}`)) as {
        run: { status: string; note: string };
      };
      expect(run.status).toBe('cancelled');
      expect(run.note).toContain('cancelled');
      await screenshot(page, 'run-cancelled');
    } finally {
      await c.close();
    }
  });

  it('shows a read-only token the run but no action', async () => {
    const id = await trigger('greeter');
    const c = await openConsole(browser, server.url, {
      token: TOKENS.readOnly,
      path: runPath('greeter', id),
    });
    try {
      const { page } = c;
      const log = page.getByRole('log', { name: 'Log of node say' });
      await expect.poll(() => log.textContent(), { timeout: 20_000 }).toContain('hello from greeter');
      await expect.poll(() => graphNode(page, id, 'say').getAttribute('data-status')).toBe('succeeded');
      for (const name of ['Cancel run', 'Re-run failed nodes', 'Replay…'])
        expect(await page.getByRole('button', { name }).count()).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('starts a replay from a run, showing the server’s refusal of a bad range first', async () => {
    const id = await trigger('greeter');
    const c = await openConsole(browser, server.url, { token: TOKENS.full, path: runPath('greeter', id) });
    try {
      const { page } = c;
      await page.getByRole('button', { name: 'Replay…' }).click();
      await page.getByLabel('From').fill('2026-03-02');
      await page.getByLabel('To').fill('2026-03-01');
      await page.getByRole('button', { name: 'Start replay' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/the range is empty/i);

      await page.getByLabel('To').fill('2026-03-02');
      await page.getByRole('button', { name: 'Start replay' }).click();
      const status = page.getByRole('status').filter({ hasText: 'Replay' });
      await expect.poll(() => status.textContent()).toMatch(/Replay \d+ started: 1 run of 1 job\./);
      const { replays } = (await server.api('GET', `${P}/replay?job=greeter`)) as { replays: unknown[] };
      expect(replays).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  it('lists recent runs across jobs with their state, filtered by state, each linking to its page', async () => {
    const c = await openConsole(browser, server.url, { token: TOKENS.full, path: '#/runs' });
    try {
      const { page } = c;
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Runs');
      const rows = page.locator('table.runs-table tbody tr');
      await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(4);
      const jobs = await rows.evaluateAll((trs) =>
        trs.map((tr) => tr.querySelector('td:nth-child(2) a')?.textContent),
      );
      for (const j of ['failing', 'napping', 'greeter']) expect(jobs).toContain(j);
      await screenshot(page, 'runs');
      expect(await axeCheck(page)).toEqual([]);

      await page.getByLabel('State').selectOption('failed');
      await page.getByRole('button', { name: 'Apply' }).click();
      await expect
        .poll(() =>
          rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('td:nth-child(2) a')?.textContent)),
        )
        .toEqual(['failing']);
      expect(await rows.first().textContent()).toContain('Failed');
      await rows.first().locator('td:first-child a').click();
      await page.waitForURL(/#\/runs\/acme-analytics\/failing\/\d+$/);
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain('of failing');
    } finally {
      await c.close();
    }
  });

  it('shows a job’s recent runs as a grid of node states, each cell linking to its run', async () => {
    const { runs } = (await server.api('GET', `${P}/job/napping/run`)) as {
      runs: { id: number; status: string }[];
    };
    const c = await openConsole(browser, server.url, {
      token: TOKENS.full,
      path: `#/jobs/${EXAMPLE_PROJECT}/ops/napping`,
    });
    try {
      const { page } = c;
      const grid = page.getByRole('table', { name: /Node states of the last/ });
      await grid.waitFor();
      expect(runs.length).toBeGreaterThan(0);
      for (const r of runs) {
        const cell = grid.getByRole('link', {
          name: `wait in run ${r.id}: ${STATUS_COLOR[r.status as 'cancelled'].label}`,
        });
        expect(await cell.getAttribute('href')).toBe(`#/runs/${EXAMPLE_PROJECT}/napping/${r.id}`);
        expect(await cell.getAttribute('data-status')).toBe(r.status);
        expect(await cell.evaluate(BACKGROUND)).toBe(rgb(STATUS_COLOR[r.status as 'cancelled'].bg));
      }
      await screenshot(page, 'job-runs-grid');
      expect(await axeCheck(page)).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
