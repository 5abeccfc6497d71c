/**
 * The console's shell: how the server serves it, its status colours, and in a real browser the
 * navigation, the sign-in flow with tokens (wrong, full, read-only), and that no secret value ever
 * reaches the page.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_COLOR } from '../../console/src/ui/status.js';
import { createApp } from '../../src/server/app.js';
import { CONSOLE_CSP } from '../../src/server/console.js';
import { loadPluginRegistry } from '../../src/server/plugin-registry.js';
import { createSecretCipher } from '../../src/services/secret-cipher.js';
import { createStore } from '../../src/store/create-store.js';
import {
  axeCheck,
  type ConsoleServer,
  describeBrowser,
  inPage,
  launchBrowser,
  openConsole,
  SECRET,
  screenshot,
  startConsoleServer,
  TOKENS,
} from '../helpers/browser.js';
import { APP_KEY } from '../helpers/server.js';
import { EXAMPLE_PLUGINS, tempDir } from '../helpers/temp-project.js';

/** WCAG 2 contrast ratio of two `#rrggbb` colours. */
function contrast(a: string, b: string): number {
  const lum = (hex: string) => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

describe('status colours', () => {
  it('give every run and node state a label and a colour pair readable at WCAG AA', () => {
    const states = [
      'queued',
      'running',
      'succeeded',
      'failed',
      'cancelled',
      'pending',
      'upstream_failed',
      'skipped',
      'never',
    ];
    expect(Object.keys(STATUS_COLOR).sort()).toEqual([...states].sort());
    for (const s of states) {
      const c = STATUS_COLOR[s as keyof typeof STATUS_COLOR];
      expect(c.label, s).toMatch(/\w/);
      expect(contrast(c.fg, c.bg), `${s}: ${c.fg} on ${c.bg}`).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('tell failed from succeeded without colour: each state has its own label', () => {
    const labels = Object.values(STATUS_COLOR).map((c) => c.label);
    expect(new Set(labels).size).toBe(labels.length);
  });
});

/** The API in-process with the console's files served from `dir`. */
async function appWithConsole(dir: string, tokens: string[] = []) {
  const store = await createStore({});
  const app = await createApp({
    store,
    plugins: await loadPluginRegistry(EXAMPLE_PLUGINS),
    cipher: createSecretCipher(APP_KEY),
    tokens,
    version: 'test',
    console: dir,
  });
  return {
    app,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

describe('serving the console', () => {
  it('serves index.html uncached under a strict Content-Security-Policy, and hashed assets for good', async () => {
    const dir = tempDir({
      'index.html':
        '<!doctype html><title>t</title><script type="module" src="./assets/app-abc123.js"></script>',
      'assets/app-abc123.js': 'console.log(1)',
    });
    const { app, close } = await appWithConsole(dir, ['t0ken-for-the-api']);
    try {
      const index = await app.inject({ method: 'GET', url: '/' });
      expect(index.statusCode).toBe(200);
      expect(index.headers['content-type']).toMatch(/text\/html/);
      expect(index.headers['cache-control']).toBe('no-cache');
      expect(index.headers['content-security-policy']).toBe(CONSOLE_CSP);
      expect(CONSOLE_CSP).toMatch(/^default-src 'self'/);
      expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
      const asset = await app.inject({ method: 'GET', url: '/assets/app-abc123.js' });
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(asset.headers['x-content-type-options']).toBe('nosniff');
      // The console's files are public; the API behind them is not.
      expect((await app.inject({ method: 'GET', url: '/api/v1beta1/project' })).statusCode).toBe(401);
    } finally {
      await close();
    }
  });

  it('answers / with 503 and how to build the console when it was never built', async () => {
    const { app, close } = await appWithConsole(tempDir({ 'assets/stray.js': '' }));
    try {
      const r = await app.inject({ method: 'GET', url: '/' });
      expect(r.statusCode).toBe(503);
      expect(r.body).toContain('npm run build');
      expect((await app.inject({ method: 'GET', url: '/ping' })).statusCode).toBe(200);
    } finally {
      await close();
    }
  });
});

describeBrowser('the console in a browser, without tokens', () => {
  let server: ConsoleServer;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('opens on the jobs list, navigates every section by its links, and keeps its CSP', async () => {
    const c = await openConsole(browser, server.url, { path: '' });
    try {
      const { page } = c;
      await page.waitForURL(/#\/jobs$/);
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Jobs');
      const nav = page.getByRole('navigation', { name: 'Main' });
      expect(await nav.getByRole('link').allTextContents()).toEqual([
        'Jobs',
        'Runs',
        'Plugins',
        'Projects',
        'Deploys',
      ]);
      expect(await nav.getByRole('link', { name: 'Jobs' }).getAttribute('aria-current')).toBe('page');
      // No token is asked for, and no write is refused: nothing says read-only.
      expect(await page.getByText('read-only').count()).toBe(0);
      for (const [name, heading] of [
        ['Plugins', 'Plugins'],
        ['Projects', 'Projects'],
        ['Deploys', 'Deploys'],
        ['Jobs', 'Jobs'],
      ] as const) {
        await nav.getByRole('link', { name }).click();
        await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(heading);
        expect(await nav.getByRole('link', { name }).getAttribute('aria-current')).toBe('page');
        expect(await page.title()).toBe(`${heading} · Optimus`);
      }
      // An unknown page says so and links back.
      await page.goto(`${server.url}#/no/such/page`);
      await expect.poll(() => page.getByText('There is no page here').count()).toBe(1);
      expect(c.failed).toEqual([]);
      expect(c.errors, 'console errors (a CSP violation shows here)').toEqual([]);
      await screenshot(page, 'shell-not-found');
    } finally {
      await c.close();
    }
  });

  it('is usable from the keyboard: the skip button moves focus to the page', async () => {
    const c = await openConsole(browser, server.url, { path: '#/plugins' });
    try {
      const { page } = c;
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Plugins');
      await page.keyboard.press('Tab');
      expect(await inPage(page, 'document.activeElement?.textContent')).toBe('Skip to content');
      await page.keyboard.press('Enter');
      expect(await inPage(page, 'document.activeElement?.id')).toBe('main');
      await page.keyboard.press('Tab');
      // The next stop is inside the page (its search box), not back in the header.
      expect(await inPage(page, "document.activeElement?.closest('main')?.id")).toBe('main');
    } finally {
      await c.close();
    }
  });
});

describeBrowser('the console in a browser, with tokens', () => {
  let server: ConsoleServer;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer({ tokens: true }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('asks for a token, says why a wrong one is refused, and lets a good one in', async () => {
    const c = await openConsole(browser, server.url, { path: '#/jobs' });
    try {
      const { page } = c;
      const form = page.getByRole('form', { name: 'Sign in to Optimus' });
      await form.waitFor();
      // Nothing but the form: no navigation before signing in.
      expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
      expect(await axeCheck(page)).toEqual([]);
      await screenshot(page, 'shell-sign-in');

      await page.getByLabel('API token').fill('not-a-token-this-server-knows');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('not accepted by this server');
      await screenshot(page, 'shell-sign-in-refused');
      expect(await inPage(page, "sessionStorage.getItem('optimus.token')")).toBeNull();

      await page.getByLabel('API token').fill(TOKENS.full);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Jobs');
      await expect.poll(() => page.getByRole('link', { name: 'revenue-daily' }).count()).toBe(1);
      // Kept for the tab only: sessionStorage, never localStorage, a cookie or the URL.
      expect(await inPage(page, "sessionStorage.getItem('optimus.token')")).toBe(TOKENS.full);
      expect(await inPage(page, 'localStorage.length')).toBe(0);
      expect(await c.context.cookies()).toEqual([]);
      expect(page.url()).not.toContain(TOKENS.full);
      expect(await page.getByText('read-only').count()).toBe(0);

      // Signing out forgets the token and shows the form again.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await form.waitFor();
      expect(await inPage(page, "sessionStorage.getItem('optimus.token')")).toBeNull();
    } finally {
      await c.close();
    }
  });

  it('returns to the sign-in form with the server message when the held token stops working', async () => {
    const c = await openConsole(browser, server.url, { path: '#/jobs', token: 'a-token-revoked-since' });
    try {
      const { page } = c;
      await page.getByRole('form', { name: 'Sign in to Optimus' }).waitFor();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('not accepted by this server');
    } finally {
      await c.close();
    }
  });

  it('shows a read-only token no action that writes', async () => {
    const ro = await openConsole(browser, server.url, {
      path: '#/jobs/acme-analytics/finance/revenue-daily',
      token: TOKENS.readOnly,
    });
    const full = await openConsole(browser, server.url, {
      path: '#/jobs/acme-analytics/finance/revenue-daily',
      token: TOKENS.full,
    });
    try {
      await expect.poll(() => full.page.getByRole('button', { name: 'Trigger run' }).count()).toBe(1);
      await expect
        .poll(() => ro.page.getByRole('heading', { level: 1 }).textContent())
        .toContain('revenue-daily');
      await expect.poll(() => ro.page.getByText('read-only', { exact: true }).count()).toBe(1);
      expect(await ro.page.getByRole('button', { name: 'Trigger run' }).count()).toBe(0);
      await screenshot(ro.page, 'shell-read-only');
      // The graphs (a lazy chunk) run under the page's Content-Security-Policy too.
      await expect.poll(() => ro.page.locator('.react-flow').count()).toBeGreaterThan(0);
      expect(ro.errors).toEqual([]);
      expect(full.errors).toEqual([]);
    } finally {
      await ro.close();
      await full.close();
    }
  });

  it('never lets a secret value reach the page or any response, whatever the token may read', async () => {
    for (const token of [TOKENS.full, TOKENS.secrets]) {
      const c = await openConsole(browser, server.url, { path: '#/projects', token });
      try {
        const { page } = c;
        // The secret is listed by name on the projects page.
        await expect.poll(() => page.getByText(SECRET.name, { exact: true }).count()).toBe(1);
        for (const path of [
          '#/jobs',
          '#/plugins',
          '#/deploys',
          '#/jobs/acme-analytics/finance/revenue-daily',
          '#/jobs/acme-analytics/marketing/campaign-performance',
        ]) {
          await page.goto(server.url + path);
          await page.waitForLoadState('networkidle');
        }
        const bodies = await c.bodies();
        expect(bodies.length).toBeGreaterThan(10);
        const encoded = Buffer.from(SECRET.value).toString('base64');
        for (const b of bodies) {
          expect(b).not.toContain(SECRET.value);
          expect(b).not.toContain(encoded);
        }
        expect(await page.content()).not.toContain(SECRET.value);
      } finally {
        await c.close();
      }
    }
  });
});
