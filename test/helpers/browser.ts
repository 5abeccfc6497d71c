/**
 * The web console in a real browser: a real server (createApp on 127.0.0.1, a free port) serving
 * the built console with the example project deployed, Debian's chromium driven by
 * playwright-core, and what the console tests look at: every response body the page received,
 * screenshots under test-results/, and axe-core's serious and critical violations.
 *
 * The console is built once per test run when console/dist is missing or older than its sources
 * (test/helpers/console-build.ts, a vitest globalSetup). Without /usr/bin/chromium the browser
 * suites are skipped with the reason in their name.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axe from 'axe-core';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { describe } from 'vitest';
import { createRunner, type Runner, type RunnerOptions } from '../../src/scheduler/runner.js';
import { createApp } from '../../src/server/app.js';
import { CONSOLE_DIST } from '../../src/server/console.js';
import { loadPluginRegistry, type PluginRegistry } from '../../src/server/plugin-registry.js';
import { createSecretCipher } from '../../src/services/secret-cipher.js';
import { defaultServerConfig } from '../../src/spec/server-config.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/store.js';
import { APP_KEY, exampleJobs, registerExample } from './server.js';
import { EXAMPLE_PLUGINS } from './temp-project.js';

export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
const NO_CHROMIUM = `skipped: ${CHROMIUM} is absent (install Debian's chromium package, as .ci/run does)`;

/** `describe` for suites that need the browser: skipped, saying why, when chromium is absent. */
export const describeBrowser: (name: string, fn: () => void) => void = HAS_CHROMIUM
  ? (name, fn) => describe(name, fn)
  : (name, fn) => describe.skip(`${name} (${NO_CHROMIUM})`, fn);

/** The tokens a server started with `tokens: true` accepts. */
export const TOKENS = {
  /** May do everything but read secret values. */
  full: 'console-full-token-0123456789',
  /** May call GET routes only. */
  readOnly: 'console-read-only-token-0123456789',
  /** May also read secret values (the scheduler's kind): the console must still never show one. */
  secrets: 'console-secrets-token-0123456789',
} as const;

/** A secret the example jobs read (`{{ .secret.WH_TOKEN }}`), stored in the example project: its value must never reach the browser. */
export const SECRET = { name: 'WH_TOKEN', value: 'hunter2-console-NEVER-SHOWN-7f3a9c' } as const;

export const EXAMPLE_PROJECT = 'acme-analytics';

export interface ConsoleServerOptions {
  /** Configure TOKENS (full, read-only, read-secrets); default: no authentication. */
  tokens?: boolean;
  /** Store SECRET in the example project (project-wide); default true. */
  secret?: boolean;
  /** Register the example project and deploy both its namespaces; default true. */
  deploy?: boolean;
  /**
   * Plugin spec files (file name → YAML) served beside the example plugins, e.g. one whose task
   * fails, for jobs a test deploys itself.
   */
  plugins?: Record<string, string>;
  /**
   * Start the embedded runner (process executor), woken by triggers as under `optimus serve`.
   * `schedule: false` (the default) leaves out the scheduler's passes, so no run starts on its own
   * (the example jobs' schedules lie in the past and would each get a catch-up run); triggered
   * runs and replays still start at once. Other fields tune the runner.
   */
  runner?:
    | boolean
    | ({ schedule?: boolean } & Partial<Pick<RunnerOptions, 'pollMs' | 'heartbeatMs' | 'leaseMs'>>);
}

export interface ConsoleServer {
  /** `http://127.0.0.1:<port>/`: the console's address (its pages are `url + '#/jobs'`). */
  url: string;
  app: FastifyInstance;
  store: Store;
  plugins: PluginRegistry;
  runner?: Runner;
  /** Calls the API in-process (no token needed: `inject` goes through auth like any request). */
  api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, payload?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/** A real server serving the built console, on 127.0.0.1 and a free port. */
export async function startConsoleServer(opts: ConsoleServerOptions = {}): Promise<ConsoleServer> {
  if (!existsSync(join(CONSOLE_DIST, 'index.html')))
    throw new Error(`the console is not built (${CONSOLE_DIST}): run \`npm run build:console\``);
  const dir = mkdtempSync(join(tmpdir(), 'optimus-console-'));
  const pluginDir = join(dir, 'plugins');
  mkdirSync(pluginDir);
  for (const f of readdirSync(EXAMPLE_PLUGINS)) {
    if (f.endsWith('.yaml')) writeFileSync(join(pluginDir, f), readFileSync(join(EXAMPLE_PLUGINS, f)));
  }
  for (const [name, text] of Object.entries(opts.plugins ?? {})) writeFileSync(join(pluginDir, name), text);
  const store = await createStore({});
  const plugins = await loadPluginRegistry(pluginDir);
  const cipher = createSecretCipher(APP_KEY);
  const scheduler = defaultServerConfig().scheduler;
  const runnerOpts = opts.runner === true ? {} : opts.runner || undefined;
  const runner = runnerOpts
    ? createRunner({
        store,
        plugins,
        cipher,
        config: scheduler,
        dataDir: dir,
        logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
        pollMs: runnerOpts.pollMs ?? 100,
        ...(runnerOpts.heartbeatMs ? { heartbeatMs: runnerOpts.heartbeatMs } : {}),
        ...(runnerOpts.leaseMs ? { leaseMs: runnerOpts.leaseMs } : {}),
        ...(runnerOpts.schedule ? {} : { schedulePassMs: Number.POSITIVE_INFINITY }),
      })
    : undefined;
  const app = await createApp({
    store,
    plugins,
    cipher,
    version: 'console-test',
    console: CONSOLE_DIST,
    ...(opts.tokens
      ? { tokens: [TOKENS.full], readOnlyTokens: [TOKENS.readOnly], secretTokens: [TOKENS.secrets] }
      : {}),
    ...(runner ? { runner } : {}),
  });
  const auth: Record<string, string> = opts.tokens ? { authorization: `Bearer ${TOKENS.full}` } : {};
  const api = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) => {
    const r = await app.inject({
      method,
      url,
      headers: auth,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json();
  };
  try {
    if (opts.deploy !== false) {
      await registerExample(withAuth(app, auth));
      for (const ns of ['marketing', 'finance']) {
        await api('POST', `/api/v1beta1/project/${EXAMPLE_PROJECT}/namespace/${ns}/deploy`, {
          jobs: exampleJobs(ns),
        });
      }
      if (opts.secret !== false) {
        await api('POST', `/api/v1beta1/project/${EXAMPLE_PROJECT}/secret/${SECRET.name}`, {
          value: Buffer.from(SECRET.value).toString('base64'),
        });
      }
    }
    await app.listen({ host: '127.0.0.1', port: 0 });
    await runner?.start();
  } catch (e) {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    app,
    store,
    plugins,
    ...(runner ? { runner } : {}),
    api,
    async close() {
      await runner?.stop();
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** registerExample's in-process calls, with the full token when the server requires one. */
function withAuth(app: FastifyInstance, headers: Record<string, string>): FastifyInstance {
  if (!headers.authorization) return app;
  const inject = (opts: InjectOptions) => app.inject({ ...opts, headers: { ...opts.headers, ...headers } });
  return new Proxy(app, {
    get: (target, prop, receiver) => (prop === 'inject' ? inject : Reflect.get(target, prop, receiver)),
  });
}

/** Debian's chromium, headless, as the CI machine has it (no downloaded browser). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
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
}

export interface ConsolePage {
  page: Page;
  context: BrowserContext;
  /** Every response body the page received so far (the console's files and every API answer). */
  bodies(): Promise<string[]>;
  /** Console errors, uncaught exceptions and Content-Security-Policy violations, as text. */
  errors: string[];
  /** `<status> <method> <url>` of every answer 400 or above the page received. */
  failed: string[];
  close(): Promise<void>;
}

/**
 * Opens the console at `url` (`path`: a hash route, default `#/jobs`) in a fresh browser context
 * (its own sessionStorage); `token` is put in the tab's session as if signed in.
 */
export async function openConsole(
  browser: Browser,
  url: string,
  opts: { token?: string; path?: string } = {},
): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  // Under vitest's 30 s test timeout, so a locator that finds nothing fails with its own message.
  context.setDefaultTimeout(10_000);
  if (opts.token) {
    // Only into the tab's first document: a later sign-out must stay signed out across reloads.
    await context.addInitScript({
      content: `if (!sessionStorage.getItem('optimus.test.seeded')) {
        sessionStorage.setItem('optimus.test.seeded', '1');
        sessionStorage.setItem('optimus.token', ${JSON.stringify(opts.token)});
      }`,
    });
  }
  const page = await context.newPage();
  const pending: Promise<string>[] = [];
  const errors: string[] = [];
  const failed: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    pending.push(
      r.body().then(
        (b) => b.toString('utf8'),
        () => '',
      ),
    );
  });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  await page.goto(url + (opts.path ?? '#/jobs'));
  return {
    page,
    context,
    bodies: () => Promise.all(pending),
    errors,
    failed,
    close: () => context.close(),
  };
}

export const RESULTS_DIR = join(import.meta.dirname, '../../test-results/console');

/** A full-page screenshot at test-results/console/<name>.png, for people to look at. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  /** CSS selectors of the offending elements (the first few). */
  targets: string[];
}

/**
 * axe-core's serious and critical violations on the page as it is now. axe is evaluated through
 * the DevTools protocol, so the page's Content-Security-Policy stays in force for everything else.
 */
export async function axeCheck(page: Page): Promise<AxeViolation[]> {
  if (!(await inPage<boolean>(page, "typeof window.axe !== 'undefined'"))) await page.evaluate(axe.source);
  const violations = await inPage<AxeViolation[]>(
    page,
    `axe.run(document, { resultTypes: ['violations'] }).then((r) =>
      r.violations.map((v) => ({
        id: v.id,
        impact: v.impact || 'unknown',
        help: v.help,
        targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
      })),
    )`,
  );
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * The value of a JavaScript expression in the page. Written as text: this project's TypeScript
 * has no DOM types, so code that runs in the page is not type-checked as if it ran in Node.
 */
export function inPage<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}
