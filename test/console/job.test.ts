/**
 * The console's job page in a real browser, against a server with the example project deployed:
 * the run graph drawn with every edge's origin (default order, project rule, fail edges apart),
 * dropped rules with their reason, the lineage graph leading to the upstream job's page, the run
 * input preview naming secrets without their values, and triggering a run.
 */
import type { Browser } from 'playwright-core';
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
  TOKENS,
} from '../helpers/browser.js';

interface ApiEdge {
  from: string;
  to: string;
  origin: string;
  rule: number | null;
}
interface ApiJob {
  run_graph: { nodes: { name: string; stage: string }[]; edges: ApiEdge[]; dropped: { reason: string }[] };
}

const jobPath = (ns: string, job: string) => `#/jobs/${EXAMPLE_PROJECT}/${ns}/${job}`;

describeBrowser('job page', () => {
  let server: ConsoleServer;
  let browser: Browser;

  beforeAll(async () => {
    // The harness stores SECRET, which the example's warehouse-load tasks read.
    server = await startConsoleServer({ tokens: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('draws the run graph of a job with hooks: every node by stage, every edge by origin, fail edges apart', async () => {
    const { job } = (await server.api(
      'GET',
      `/api/v1beta1/project/${EXAMPLE_PROJECT}/namespace/marketing/job/campaign-performance`,
    )) as { job: ApiJob };
    const c = await openConsole(browser, server.url, {
      token: TOKENS.full,
      path: jobPath('marketing', 'campaign-performance'),
    });
    const refused: string[] = [];
    c.page.on('response', (r) => {
      if (r.status() >= 400) refused.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    });
    try {
      const { page } = c;
      const graph = page.getByRole('figure', { name: 'Run graph of campaign-performance' });
      await expect.poll(() => graph.locator('.react-flow__node').count()).toBe(7);
      await expect.poll(() => graph.locator('.react-flow__edge').count()).toBe(job.run_graph.edges.length);

      const drawnNodes = await graph
        .locator('.react-flow__node')
        .evaluateAll((els) => els.map((e) => [e.getAttribute('data-id'), e.getAttribute('data-stage')]));
      expect(new Map(drawnNodes as [string, string][])).toEqual(
        new Map([
          ['audit-input', 'pre'],
          ['check-source', 'pre'],
          ['warehouse-load', 'task'],
          ['audit-output', 'post'],
          ['publish', 'post'],
          ['notify-team', 'post'],
          ['page-oncall', 'fail'],
        ]),
      );
      // Each node says its stage in words, not only by colour.
      await expect
        .poll(() => graph.locator('.react-flow__node[data-id="page-oncall"]').textContent())
        .toContain('Fail hook');

      const drawn = await graph.locator('.react-flow__edge').evaluateAll((els) =>
        els.map((e) => ({
          from: e.getAttribute('data-from'),
          to: e.getAttribute('data-to'),
          origin: e.getAttribute('data-origin'),
          label: e.querySelector('.react-flow__edge-text')?.textContent ?? '',
          fail: e.classList.contains('edge-fail'),
        })),
      );
      const key = (e: { from: string | null; to: string | null }) => `${e.from}->${e.to}`;
      expect(drawn.map(key).sort()).toEqual(job.run_graph.edges.map(key).sort());
      const byKey = new Map(drawn.map((e) => [key(e), e]));
      for (const e of job.run_graph.edges) expect(byKey.get(key(e))!.origin, key(e)).toBe(e.origin);
      // The example project's rules: "audit-output >> notify-team,publish" (0), "check-source >> audit-input" (1).
      expect(byKey.get('audit-output->notify-team')).toMatchObject({ origin: 'rule', label: 'rule 0' });
      expect(byKey.get('audit-output->publish')).toMatchObject({ origin: 'rule', label: 'rule 0' });
      expect(byKey.get('check-source->audit-input')).toMatchObject({ origin: 'rule', label: 'rule 1' });
      expect(byKey.get('audit-input->warehouse-load')).toMatchObject({
        origin: 'default',
        label: 'default',
        fail: false,
      });
      expect(byKey.get('warehouse-load->page-oncall')).toMatchObject({
        origin: 'default',
        label: 'on failure · default',
        fail: true,
      });
      expect(drawn.filter((e) => e.fail).map(key)).toEqual(['warehouse-load->page-oncall']);

      const legend = page.getByRole('list', { name: 'Edge legend' });
      for (const text of [
        'Default order',
        'Project hook rule',
        "The job's depends_on",
        'legacy DependsOn hint',
        'fail hook',
      ])
        expect(await legend.textContent()).toContain(text);
      // Every rule applies to this job: none is dropped.
      expect(await page.getByText('No project rule or plugin hint was dropped for this job.').count()).toBe(
        1,
      );

      await screenshot(page, 'job-campaign-performance');
      expect(await axeCheck(page)).toEqual([]);
      expect(refused).toEqual([]);
      expect(c.errors).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('lists the rules a job dropped, with the reason the graph builder gave', async () => {
    const { job } = (await server.api(
      'GET',
      `/api/v1beta1/project/${EXAMPLE_PROJECT}/namespace/marketing/job/attribution`,
    )) as { job: ApiJob };
    expect(job.run_graph.dropped.length).toBeGreaterThan(0);
    const c = await openConsole(browser, server.url, {
      token: TOKENS.full,
      path: jobPath('marketing', 'attribution'),
    });
    try {
      const { page } = c;
      await page.getByRole('heading', { name: 'Dropped rules' }).waitFor();
      const items = await page.locator('.dropped-rules li').allTextContents();
      expect(items).toHaveLength(job.run_graph.dropped.length);
      for (const [i, d] of job.run_graph.dropped.entries()) expect(items[i]).toContain(d.reason);
      // attribution has notify-team (inherited) but no audit-output: rule 0 cannot order them.
      expect(items.join('\n')).toMatch(/Project rule 0.*this job has no hook audit-output/);
    } finally {
      await c.close();
    }
  });

  it('shows upstream and downstream jobs as a lineage graph whose job nodes lead to their pages', async () => {
    const c = await openConsole(browser, server.url, {
      token: TOKENS.full,
      path: jobPath('marketing', 'campaign-performance'),
    });
    try {
      const { page } = c;
      const lineage = page.getByRole('figure', { name: 'Lineage of campaign-performance' });
      // campaign-performance lists `dependencies: [{job: attribution}]`.
      const upstream = lineage.locator('.react-flow__node[data-id="job:acme-analytics/attribution"]');
      await upstream.waitFor();
      expect(await upstream.getAttribute('data-role')).toBe('Upstream job');
      expect(
        await lineage
          .locator('.react-flow__node[data-id="job:acme-analytics/campaign-performance"]')
          .textContent(),
      ).toContain('This job');

      await upstream.getByRole('link', { name: 'attribution' }).click();
      await page.waitForURL(/#\/jobs\/acme-analytics\/marketing\/attribution$/);
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('attribution');
      const back = page
        .getByRole('figure', { name: 'Lineage of attribution' })
        .locator('.react-flow__node[data-id="job:acme-analytics/campaign-performance"]');
      await back.waitFor();
      expect(await back.getAttribute('data-role')).toBe('Downstream job');
      await screenshot(page, 'job-attribution-lineage');
      expect(await axeCheck(page)).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('previews a node’s run input with secret names only, even for a token that may read secrets', async () => {
    const c = await openConsole(browser, server.url, {
      token: TOKENS.secrets,
      path: jobPath('finance', 'marketing-roi'),
    });
    try {
      const { page } = c;
      const form = page.getByRole('form', { name: 'Run input preview' });
      await form.waitFor();
      await form.getByLabel('Node').selectOption('warehouse-load');
      await form.getByRole('button', { name: 'Preview run input' }).click();
      const env = page.getByRole('table', { name: 'Environment' });
      await env.waitFor();
      // Non-secret values are shown, with their names.
      expect(await env.textContent()).toContain('marketing_roi');
      const secrets = await page.locator('.secret-names li').allTextContents();
      expect(secrets.join(' ')).toContain(SECRET.name);
      await screenshot(page, 'job-run-input-preview');

      const html = await page.content();
      expect(html).not.toContain(SECRET.value);
      for (const body of await c.bodies()) expect(body).not.toContain(SECRET.value);
      expect(await axeCheck(page)).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('triggers a run for a writer and opens it; a read-only token is offered no trigger', async () => {
    const ro = await openConsole(browser, server.url, {
      token: TOKENS.readOnly,
      path: jobPath('finance', 'revenue-daily'),
    });
    try {
      await expect.poll(() => ro.page.getByRole('heading', { level: 1 }).textContent()).toBe('revenue-daily');
      await ro.page.getByRole('figure', { name: 'Run graph of revenue-daily' }).waitFor();
      expect(await ro.page.getByRole('button', { name: 'Trigger run' }).count()).toBe(0);
      expect(await ro.page.getByRole('button', { name: 'Replay…' }).count()).toBe(0);
      // The server refuses a read-only token every POST, a preview included: none is offered.
      expect(await ro.page.getByRole('form', { name: 'Run input preview' }).count()).toBe(0);
    } finally {
      await ro.close();
    }
    const c = await openConsole(browser, server.url, {
      token: TOKENS.full,
      path: jobPath('finance', 'revenue-daily'),
    });
    try {
      const { page } = c;
      await page.getByRole('button', { name: 'Trigger run' }).click();
      await page.waitForURL(/#\/runs\/acme-analytics\/revenue-daily\/\d+$/);
      const id = Number(/(\d+)$/.exec(page.url())![1]);
      await expect
        .poll(() => page.getByRole('heading', { level: 1 }).textContent())
        .toContain(`Run ${id} of revenue-daily`);
      const { runs } = (await server.api(
        'GET',
        `/api/v1beta1/project/${EXAMPLE_PROJECT}/job/revenue-daily/run`,
      )) as {
        runs: { id: number; trigger: string }[];
      };
      expect(runs.find((r) => r.id === id)?.trigger).toBe('manual');

      // Back on the job page, the grid has a column for that run, linking to it.
      await page.goto(`${server.url}${jobPath('finance', 'revenue-daily')}`);
      const cell = page.getByRole('link', { name: new RegExp(`^Run ${id},`) });
      await cell.waitFor();
      expect(await cell.getAttribute('href')).toBe(`#/runs/acme-analytics/revenue-daily/${id}`);
    } finally {
      await c.close();
    }
  });
});
