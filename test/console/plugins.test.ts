/**
 * The plugins pages in a real browser: the list of served plugins, and one plugin's spec (versions
 * with images and wrapper images, configs with required and secret flags, questions with their
 * validations, mods) with the deployed jobs that use it as task or hook.
 */
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  axeCheck,
  type ConsoleServer,
  describeBrowser,
  launchBrowser,
  openConsole,
  screenshot,
  startConsoleServer,
} from '../helpers/browser.js';

/** The rows of a table as text, one array of cell texts per row (header cell first). */
async function rows(table: Locator): Promise<string[][]> {
  return table
    .locator('tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => (c.textContent ?? '').trim())),
    );
}

describeBrowser('plugins pages', () => {
  let server: ConsoleServer;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists every served plugin with its version, dialect and use, and filters by search', async () => {
    const c = await openConsole(browser, server.url, { path: '#/plugins' });
    try {
      const { page } = c;
      const table = page.getByRole('table', { name: 'Installed plugins' });
      await expect.poll(async () => (await rows(table)).length).toBe(5);
      const byName = Object.fromEntries((await rows(table)).map((r) => [r[0], r]));
      expect(Object.keys(byName).sort()).toEqual([
        'data-audit',
        'publish-event',
        'python-script',
        'slack-notify',
        'warehouse-load',
      ]);
      expect(byName['warehouse-load']).toEqual([
        'warehouse-load',
        'Runs a SQL query and loads its result into a warehouse table',
        '1.2.0',
        'v3',
        'task only',
        'dependency_resolver',
      ]);
      expect(byName['data-audit']![4]).toMatch(/^task or (\w+ )?hook$/);
      expect(await axeCheck(page)).toEqual([]);
      await screenshot(page, 'plugins-list');

      await page.getByLabel('Search').fill('warehouse');
      await expect.poll(async () => (await rows(table)).map((r) => r[0])).toEqual(['warehouse-load']);
      await page.getByLabel('Search').fill('no plugin is called this');
      await expect.poll(() => page.getByText('No plugin matches this search.').count()).toBe(1);
      expect(c.errors).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it("shows a plugin's spec: versions and images, configs, questions with validations, mods, and its users", async () => {
    const c = await openConsole(browser, server.url, { path: '#/plugins' });
    try {
      const { page } = c;
      await page.getByRole('link', { name: 'warehouse-load' }).click();
      await page.waitForURL(/#\/plugins\/warehouse-load$/);
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('warehouse-load');
      const section = (name: string) =>
        page.locator('section').filter({ has: page.getByRole('heading', { level: 2, name, exact: true }) });

      const versions = await rows(section('Versions').getByRole('table'));
      expect(versions.map((r) => [r[0], r[1]])).toEqual([
        ['default', 'docker.io/acme/wh-load:1.2.0'],
        ['1.1', 'docker.io/acme/wh-load:1.1.9'],
      ]);
      // The wrapper image Airflow pods run, for each version.
      for (const r of versions) expect(r[3]).toMatch(/wh-load|warehouse-load/);
      // The script is folded under its first line (a details element: its text is in the page).
      expect(versions[0]![2]).toMatch(/^\/bin\/sh -c script \(6 lines\)set -eu\n/);

      const configs = Object.fromEntries(
        (await rows(section('Configs').getByRole('table'))).map((r) => [r[0], r.slice(1)]),
      );
      expect(configs.WH_TOKEN).toEqual(['warehouse credential', 'required', 'secret', '—']);
      expect(configs.PROJECT).toEqual(['warehouse project', 'required', 'no', '—']);

      const questions = section('Questions');
      const project = questions.locator('li').filter({ hasText: 'Warehouse project' }).first();
      expect(await project.textContent()).toContain('matches ^[a-z][a-z0-9_-]+$');
      expect(await project.textContent()).toContain('lower case letters, digits, _ and - only');
      expect(await project.textContent()).toContain('at least 3 characters');
      const method = questions.locator('li').filter({ hasText: 'Load method' }).first();
      expect(await method.textContent()).toContain('one of APPEND REPLACE MERGE');
      // A subquestion, under the answer that asks it.
      expect(await method.textContent()).toMatch(/When the answer is REPLACE:.*PARTITION_FILTER/);
      expect(await page.getByText('dependency_resolver').count()).toBeGreaterThan(0);

      const usage = await rows(section('Used by').getByRole('table'));
      expect(usage).toEqual([
        ['marketing-roi', 'acme-analytics / finance', 'task'],
        ['revenue-daily', 'acme-analytics / finance', 'task'],
        ['campaign-performance', 'acme-analytics / marketing', 'task'],
      ]);
      expect(await axeCheck(page)).toEqual([]);
      await screenshot(page, 'plugin-warehouse-load');

      // A hook plugin lists its jobs by hook name.
      await page.goto(`${server.url}#/plugins/data-audit`);
      const audit = section('Used by');
      await expect.poll(async () => (await rows(audit.getByRole('table'))).length).toBeGreaterThan(0);
      expect(await rows(audit.getByRole('table'))).toContainEqual([
        'campaign-performance',
        'acme-analytics / marketing',
        'hook check-source',
      ]);
    } finally {
      await c.close();
    }
  });

  it('says so when a plugin is not served', async () => {
    const c = await openConsole(browser, server.url, { path: '#/plugins/no-such-plugin' });
    try {
      await expect
        .poll(() => c.page.getByRole('alert').textContent())
        .toContain('Plugin "no-such-plugin" is not installed on this server');
    } finally {
      await c.close();
    }
  });
});
