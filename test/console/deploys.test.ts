/**
 * The projects and deploys pages in a real browser: each project's config, hook rules, presets,
 * namespaces and secrets (by name only); the deploy history with what each deploy added, changed
 * and deleted, and a failed deploy's problems.
 */
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
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
} from '../helpers/browser.js';
import { exampleJobs } from '../helpers/server.js';

async function rows(table: Locator): Promise<string[][]> {
  return table
    .locator(':scope > tbody > tr')
    .evaluateAll((trs) =>
      trs.map((tr) =>
        [...tr.querySelectorAll(':scope > th, :scope > td')].map((c) => (c.textContent ?? '').trim()),
      ),
    );
}

describeBrowser('projects page', () => {
  let server: ConsoleServer;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(), launchBrowser()]);
    await server.api('POST', `/api/v1beta1/project/${EXAMPLE_PROJECT}/secret/SLACK_TOKEN`, {
      value: Buffer.from('xoxb-also-never-shown').toString('base64'),
      namespace_name: 'marketing',
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows each project with its config, hook rules, namespaces and secrets by name only', async () => {
    const c = await openConsole(browser, server.url, { path: '#/projects' });
    try {
      const { page } = c;
      const project = page.getByRole('region', { name: EXAMPLE_PROJECT });
      await expect.poll(() => project.getByText(SECRET.name, { exact: true }).count()).toBe(1);
      expect(
        await rows(project.getByRole('table', { name: `Config of project ${EXAMPLE_PROJECT}` })),
      ).toEqual([['WAREHOUSE', 'acme_dw']]);
      expect(await project.locator('ol.rules li').allTextContents()).toEqual([
        'audit-output >> notify-team,publish',
        'check-source >> audit-input',
      ]);
      const namespaces = await rows(
        project.getByRole('table', { name: `Namespaces of project ${EXAMPLE_PROJECT}` }),
      );
      expect(namespaces.map((r) => r[0])).toEqual(['finance', 'marketing']);
      const secrets = await rows(
        project.getByRole('table', { name: `Secrets of project ${EXAMPLE_PROJECT}` }),
      );
      expect(secrets.map((r) => r.slice(0, 2))).toEqual([
        ['SLACK_TOKEN', 'namespace marketing'],
        [SECRET.name, 'whole project'],
      ]);
      const bodies = await c.bodies();
      for (const b of bodies) {
        expect(b).not.toContain(SECRET.value);
        expect(b).not.toContain('xoxb-also-never-shown');
      }
      expect(await axeCheck(page)).toEqual([]);
      await screenshot(page, 'projects');

      // A namespace's jobs link opens the jobs list narrowed to it.
      await project.getByRole('link', { name: 'Jobs in marketing' }).click();
      await page.waitForURL(/#\/jobs$/);
      await expect
        .poll(() => page.locator('table.jobs tbody tr th a').allTextContents())
        .toEqual(['attribution', 'campaign-performance']);
      expect(await page.getByLabel('Namespace').inputValue()).toBe('marketing');
    } finally {
      await c.close();
    }
  });
});

describeBrowser('deploys page', () => {
  let server: ConsoleServer;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(), launchBrowser()]);
    const finance = exampleJobs('finance');
    const path = `/api/v1beta1/project/${EXAMPLE_PROJECT}/namespace/finance/deploy`;
    // Changed: one job's description; deleted: ledger-export.
    const changed = finance
      .filter((j) => j.name !== 'ledger-export')
      .map((j) => (j.name === 'revenue-daily' ? { ...j, description: 'changed by the console test' } : j));
    await server.api('POST', path, { jobs: changed });
    // Refused: a job whose task is a plugin this server does not serve.
    await server
      .api('POST', path, {
        jobs: [...changed, { ...changed[0], name: 'broken-job', task: { name: 'no-such-plugin' } }],
      })
      .then(
        () => {
          throw new Error('the broken deploy was accepted');
        },
        (e: Error) => expect(e.message).toMatch(/: 4\d\d /),
      );
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists deploys newest first with what each added, changed and deleted, and the problems of a failed one', async () => {
    const c = await openConsole(browser, server.url, { path: '#/deploys' });
    try {
      const { page } = c;
      const table = page.getByRole('table', { name: 'Deploys, newest first' });
      await expect.poll(async () => (await rows(table)).filter((r) => r[0]?.startsWith('#')).length).toBe(4);
      const deploys = (await rows(table)).filter((r) => r[0]?.startsWith('#'));
      // [id, when, where, status, added, changed, deleted, unchanged, took, details]
      expect(
        deploys.map((r) => [r[2], r[3]!.replace(/\d+ problems?/, 'problems'), r[4], r[5], r[6], r[7]]),
      ).toEqual([
        ['acme-analytics / finance', 'Failed problems', '0', '0', '0', '0'],
        ['acme-analytics / finance', 'Succeeded', '0', '1', '1', '1'],
        ['acme-analytics / finance', 'Succeeded', '3', '0', '0', '0'],
        ['acme-analytics / marketing', 'Succeeded', '2', '0', '0', '0'],
      ]);
      // The newest failed deploy opens with its problems, naming the unknown plugin.
      const problems = page.getByRole('list').filter({ hasText: 'no-such-plugin' });
      await expect.poll(() => problems.count()).toBe(1);
      expect(await problems.textContent()).toMatch(/no-such-plugin/);

      const second = page.getByRole('button', { name: `Details of deploy ${deploys[1]![0]!.slice(1)}` });
      await second.click();
      expect(await second.getAttribute('aria-expanded')).toBe('true');
      const detail = page.locator(`#deploy-${deploys[1]![0]!.slice(1)}-detail`);
      expect(await detail.getByRole('heading', { name: 'Changed' }).count()).toBe(1);
      expect(await detail.getByRole('link', { name: 'revenue-daily' }).count()).toBe(1);
      expect(await detail.getByText('ledger-export').count()).toBe(1);
      expect(await axeCheck(page)).toEqual([]);
      await screenshot(page, 'deploys');

      // Narrowed to one namespace.
      await page.getByLabel('Project').selectOption(EXAMPLE_PROJECT);
      await page.getByLabel('Namespace').selectOption('marketing');
      await expect
        .poll(async () => (await rows(table)).filter((r) => r[0]?.startsWith('#')).map((r) => r[2]))
        .toEqual(['acme-analytics / marketing']);
      expect(c.errors.filter((e) => !e.includes('Failed to load resource'))).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
