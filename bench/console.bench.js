// Issue 12's figures for the web console: 10,000 jobs deployed to a real `optimus serve` (which
// serves the built console), then Debian's chromium opens `#/jobs` in a fresh browser context
// (nothing cached) several times: the time from navigation to the first rows shown with the search
// box enabled, and from typing a job's name to the list showing only it; beside them the API's own
// answer for the first page, the part of the load the server does. Also the first load's
// JavaScript, gzipped: every script the page fetched before any lazy chunk (the jobs page needs
// none), read from the browser's responses and compressed with zlib.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { serve } from './serve-kit.js';

const ROOT = join(import.meta.dirname, '..');
const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const CHROMIUM = '/usr/bin/chromium';

function job(i) {
  return {
    version: 3,
    name: `gen-${String(i).padStart(5, '0')}`,
    owner: `team-${i % 40}@acme.example`,
    schedule: { start_date: '2026-01-01', interval: `${i % 60} * * * *` },
    task: { name: 'python-script', config: { ENTRY: 'main.py', N: String(i) }, window: { size: '1h' } },
    hooks: [
      { name: 'audit', type: 'data-audit', stage: 'pre', config: { AUDIT_TABLE: `acme.raw.t_${i}` } },
      { name: 'publish', type: 'publish-event', config: { TOPIC: `t.${i}` } },
    ],
    assets: { 'main.py': `# job ${i}\n` },
  };
}

async function call(url, method, path, body) {
  const r = await fetch(url + path, {
    method,
    body: body && JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  const json = await r.json();
  if (r.status >= 300)
    throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json).slice(0, 500)}`);
  return json;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One cold load of `#/jobs`: milliseconds to usable, to a searched row, and the scripts fetched. */
async function load(browser, url, needle) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    const page = await context.newPage();
    const scripts = [];
    page.on('response', (r) => {
      if (r.request().resourceType() === 'script') scripts.push(r.body().then((b) => ({ url: r.url(), b })));
    });
    await page.goto(`${url}#/jobs`, { waitUntil: 'commit' });
    // Timed in the page, on the first animation frame where it holds: milliseconds since the
    // navigation started (performance.timeOrigin), with no round trip to this process counted.
    const usable = await (
      await page.waitForFunction(
        () => {
          const search = document.querySelector('input[type=search]');
          const row = document.querySelector('table.jobs tbody tr th a');
          return row !== null && search !== null && !search.disabled && performance.now();
        },
        null,
        { polling: 'raf', timeout: 30_000 },
      )
    ).jsonValue();
    const t0 = await page.evaluate(() => performance.now());
    await page.fill('input[type=search]', needle);
    const shown = await (
      await page.waitForFunction(
        (name) => {
          const rows = [...document.querySelectorAll('table.jobs tbody tr th a')].map((a) => a.textContent);
          return rows.length === 1 && rows[0] === name && performance.now();
        },
        needle,
        { polling: 'raf', timeout: 30_000 },
      )
    ).jsonValue();
    const searched = shown - t0;
    return { usable, searched, scripts: await Promise.all(scripts) };
  } finally {
    await context.close();
  }
}

export async function run() {
  if (!existsSync(CHROMIUM))
    return {
      name: 'console',
      rows: [{ metric: `skipped: ${CHROMIUM} is absent`, value: Number.NaN, unit: '' }],
    };
  if (!existsSync(join(ROOT, 'console/dist/index.html')))
    throw new Error('the console is not built: run `npm run build` first');
  const dir = mkdtempSync(join(tmpdir(), 'optimus-bench-console-'));
  const s = await serve(
    dir,
    `plugins: {install_location: ${JSON.stringify(join(ROOT, 'examples/plugins'))}}\n`,
    ['--no-runner'],
  );
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    await call(s.url, 'POST', '/api/v1beta1/project', { project: { name: 'bench' } });
    await call(s.url, 'POST', '/api/v1beta1/project/bench/namespace', { namespace: { name: 'n' } });
    const t = performance.now();
    await call(s.url, 'POST', '/api/v1beta1/project/bench/namespace/n/deploy', {
      jobs: Array.from({ length: JOBS }, (_, i) => job(i)),
    });
    const deployS = (performance.now() - t) / 1000;
    const { total } = await call(s.url, 'GET', '/api/v1beta1/jobs?limit=1');
    if (total !== JOBS) throw new Error(`the jobs index lists ${total} jobs, not ${JOBS}`);

    const api = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      await call(s.url, 'GET', '/api/v1beta1/jobs?limit=200&offset=0');
      api.push(performance.now() - t0);
    }
    const loads = [];
    for (let i = 0; i < RUNS; i++) loads.push(await load(browser, s.url, job((i * 7919) % JOBS).name));
    const first = loads[0].scripts;
    const lazy = first.filter((x) => /\/(JobPage|RunPage|RunsPage)-/.test(x.url));
    if (lazy.length)
      throw new Error(`the jobs page loaded lazy chunks: ${lazy.map((x) => x.url).join(', ')}`);
    const gzipKb = first.reduce((n, x) => n + gzipSync(x.b, { level: 9 }).length, 0) / 1024;
    const rawKb = first.reduce((n, x) => n + x.b.length, 0) / 1024;
    return {
      name: 'console',
      rows: [
        { metric: `deploy ${JOBS} jobs (setup)`, value: deployS, unit: 's' },
        {
          metric: `GET /api/v1beta1/jobs first page of 200 of ${JOBS} (median of ${RUNS})`,
          value: median(api),
          unit: 'ms',
        },
        {
          metric: `#/jobs with ${JOBS} jobs: navigation to first rows and search box usable (median of ${RUNS} cold loads)`,
          value: median(loads.map((l) => l.usable)),
          unit: 'ms',
          target: '< 1000',
        },
        {
          metric: `#/jobs: typing a job's name to the list showing only it (median of ${RUNS})`,
          value: median(loads.map((l) => l.searched)),
          unit: 'ms',
        },
        {
          metric: `first-load JavaScript, gzipped (${first.length} file${first.length === 1 ? '' : 's'}; ${rawKb.toFixed(0)} KB raw)`,
          value: gzipKb,
          unit: 'KB',
          target: '< 300',
        },
      ],
    };
  } finally {
    await browser.close();
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.table((await run()).rows);
}
