/**
 * The jobs list in a real browser: every deployed job with its plugins, schedule, owner and last
 * run; search and filters answered by the server; rows loaded page by page as the list scrolls.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  axeCheck,
  type ConsoleServer,
  describeBrowser,
  EXAMPLE_PROJECT,
  launchBrowser,
  openConsole,
  screenshot,
  startConsoleServer,
} from '../helpers/browser.js';

const EXAMPLE_JOBS = [
  'ledger-export',
  'marketing-roi',
  'revenue-daily',
  'attribution',
  'campaign-performance',
];
/** More jobs than three pages of the list (200 rows each), in a namespace of their own. */
const MANY = 650;

function generatedJob(i: number) {
  return {
    version: 3,
    name: `gen-${String(i).padStart(4, '0')}`,
    owner: 'bench@acme.example',
    schedule: { start_date: '2026-01-01', interval: `${i % 60} * * * *` },
    task: { name: 'python-script', config: { ENTRY: 'main.py' }, window: { size: '1h' } },
    assets: { 'main.py': `print(${i})\n` },
  };
}

/** The job names in the list's rendered rows, top to bottom. */
async function shownJobs(page: Page): Promise<string[]> {
  return page.locator('table.jobs tbody tr th a').allTextContents();
}

async function countText(page: Page): Promise<string> {
  return (await page.locator('#jobs-count').textContent()) ?? '';
}

describeBrowser('jobs list', () => {
  let server: ConsoleServer;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(), launchBrowser()]);
    // A run of revenue-daily (no runner: it stays queued), so one job has a last run.
    await server.api('POST', `/api/v1beta1/project/${EXAMPLE_PROJECT}/job/revenue-daily/run`, {});
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists every deployed job with its task, hooks, schedule, owner and last run', async () => {
    const c = await openConsole(browser, server.url, { path: '#/jobs' });
    try {
      const { page } = c;
      await expect.poll(() => countText(page)).toBe('5 jobs');
      expect((await shownJobs(page)).sort()).toEqual([...EXAMPLE_JOBS].sort());
      const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'revenue-daily' }) });
      const cells = await row.getByRole('cell').allTextContents();
      expect(cells[0]).toBe('acme-analytics / finance');
      expect(cells[1]).toBe('warehouse-load');
      expect(cells[2]).toBe('data-audit, slack-notify, publish-event');
      expect(cells[3]).toBe('30 4 * * *');
      expect(cells[4]).toBe('finance-data@acme.example');
      expect(cells[5]).toMatch(/^Queued/);
      // A job never run says so.
      const never = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'ledger-export' }) });
      expect(await never.getByRole('cell').nth(5).textContent()).toBe('Never run');
      expect(await axeCheck(page)).toEqual([]);
      await screenshot(page, 'jobs-list');
      // A job's name opens its page; its last run opens the run.
      await page.getByRole('link', { name: 'revenue-daily' }).click();
      await page.waitForURL(/#\/jobs\/acme-analytics\/finance\/revenue-daily$/);
      await page.goBack();
      await row.getByRole('link', { name: /Queued/ }).click();
      await page.waitForURL(/#\/runs\/acme-analytics\/revenue-daily\/\d+$/);
      expect(c.errors).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('narrows the list by search, project and namespace, plugin and last run, and says when nothing matches', async () => {
    const c = await openConsole(browser, server.url, { path: '#/jobs' });
    try {
      const { page } = c;
      await expect.poll(() => countText(page)).toBe('5 jobs');
      await page.getByLabel('Search').fill('REVENUE');
      await expect.poll(() => shownJobs(page)).toEqual(['revenue-daily']);
      expect(await countText(page)).toBe('1 job match');
      // The owner is searched too.
      await page.getByLabel('Search').fill('marketing-data@');
      await expect.poll(() => shownJobs(page)).toEqual(['attribution', 'campaign-performance']);
      await page.getByLabel('Search').fill('');

      await page.getByLabel('Project').selectOption(EXAMPLE_PROJECT);
      await page.getByLabel('Namespace').selectOption('finance');
      await expect.poll(() => shownJobs(page)).toEqual(['ledger-export', 'marketing-roi', 'revenue-daily']);
      await page.getByLabel('Plugin').selectOption('slack-notify');
      await expect.poll(() => shownJobs(page)).toEqual(['revenue-daily']);
      await page.getByLabel('Last run').selectOption('never');
      await expect.poll(() => countText(page)).toBe('0 jobs match');
      expect(await page.getByText('No job matches these filters.').count()).toBe(1);
      await page.getByLabel('Last run').selectOption('queued');
      await expect.poll(() => shownJobs(page)).toEqual(['revenue-daily']);
      await screenshot(page, 'jobs-filtered');

      await page.getByRole('button', { name: 'Clear filters' }).click();
      await expect.poll(() => countText(page)).toBe('5 jobs');
      expect(await page.getByLabel('Namespace').isDisabled()).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('renders only the rows in view and loads the others as the list scrolls', async () => {
    await server.api('POST', `/api/v1beta1/project/${EXAMPLE_PROJECT}/namespace`, {
      namespace: { name: 'generated' },
    });
    await server.api('POST', `/api/v1beta1/project/${EXAMPLE_PROJECT}/namespace/generated/deploy`, {
      jobs: Array.from({ length: MANY }, (_, i) => generatedJob(i)),
    });
    const c = await openConsole(browser, server.url, { path: '#/jobs' });
    try {
      const { page } = c;
      await expect.poll(() => countText(page)).toBe(`${(MANY + 5).toLocaleString('en-US')} jobs`);
      const rendered = await page.locator('table.jobs tbody tr').count();
      expect(rendered).toBeGreaterThan(10);
      expect(rendered).toBeLessThan(120);
      const asked: string[] = [];
      page.on('request', (r) => {
        if (new URL(r.url()).pathname === '/api/v1beta1/jobs')
          asked.push(new URL(r.url()).searchParams.toString());
      });
      // Scrolled to the end: the last page is fetched and its last job shown.
      await page.locator('.table-scroll').evaluate((el) => {
        el.scrollTop = el.scrollHeight;
      });
      // Sorted by project, namespace, name: marketing's jobs come last, after the generated ones.
      await expect.poll(() => shownJobs(page)).toContain('campaign-performance');
      const names = await shownJobs(page);
      expect(names).toContain('gen-0649');
      expect(names).not.toContain('gen-0000');
      expect(await page.locator('table.jobs tbody tr').count()).toBeLessThan(120);
      // Only the last page was asked for (and perhaps the one before it), never the whole list.
      expect(asked.length).toBeGreaterThanOrEqual(1);
      for (const q of asked) expect(q).toMatch(/limit=200&offset=(400|600)/);
      expect(await page.locator('table.jobs').getAttribute('aria-rowcount')).toBe(String(MANY + 5 + 1));
      await screenshot(page, 'jobs-scrolled');
    } finally {
      await c.close();
    }
  });
});
