/**
 * Every route the app declares (walked from its OpenAPI document, which is generated from the route
 * declarations) gets random and mutated params, query strings and bodies. Whatever arrives, the
 * server answers in its own error shape, never 5xx, never a stack trace or a library's or the
 * database's words, and stays up.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleJobs, registerExample, type TestServer, testServer } from '../helpers/server.js';

/** OPTIMUS_FUZZ_RUNS=5000 for a longer hunt; mutation runs lower it to keep each mutant quick. */
const RUNS = Number(process.env.OPTIMUS_FUZZ_RUNS ?? 300);

let s: TestServer;
let routes: { method: string; path: string; params: string[] }[] = [];
beforeAll(async () => {
  s = await testServer();
  await registerExample(s.app);
  await s.app.inject({
    method: 'POST',
    url: '/api/v1beta1/project/acme-analytics/namespace/marketing/deploy',
    payload: { jobs: exampleJobs('marketing') },
  });
  const doc = (await s.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(ops)) {
      routes.push({
        method: method.toUpperCase(),
        path,
        params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
      });
    }
  }
  routes = routes.sort((a, b) => `${a.method} ${a.path}`.localeCompare(`${b.method} ${b.path}`));
});
afterAll(async () => s.close());

/** Stack frames, driver, parser and framework messages: none may reach a client. */
const LEAKS =
  /\bat .+:\d+:\d+|byte sequence|syntax error|violates|relation "|duplicate key|invalid input syntax|pglite|kysely|Unexpected token|JSON at position|FST_ERR|ZodError|TypeError|RangeError|call stack|Cannot read prop|is not a function|undefined is not/i;

/** Values a real client sends, so mutations reach deep into handlers rather than stopping at 404. */
const REAL_PARAMS: Record<string, string[]> = {
  project: ['acme-analytics'],
  namespace: ['marketing', 'finance'],
  job: ['campaign-performance', 'attribution'],
  name: ['warehouse-load', 'WH_TOKEN', 'slack-notify'],
};

const hostile = fc.constantFrom(
  '%00',
  'a%00b',
  '%zz',
  '%2e%2e',
  '..',
  '.',
  '%5C',
  '%1B%5B31m',
  'x'.repeat(300),
  '%F0%9F%92%A9',
  '%C0%AE',
  '__proto__',
  'constructor',
);
const paramValue = (name: string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...(REAL_PARAMS[name] ?? ['x'])) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map(encodeURIComponent) },
    { weight: 2, arbitrary: hostile },
  );

const queryString = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(
      fc.oneof(
        fc.constantFrom('limit', 'namespace_name', 'token', 'x', '__proto__'),
        fc.string({ maxLength: 8 }),
      ),
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.constantFrom('-1', '0', '1e309', 'NaN', '5', ''),
      ),
      { maxKeys: 3 },
    )
    .map((d) =>
      Object.entries(d)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
        .join('&'),
    ),
  hostile.map((h) => `namespace_name=${h}&limit=${h}`),
);

/** Valid bodies of the routes that take one, to be mutated. */
function validBodies(): unknown[] {
  return [
    { jobs: exampleJobs('marketing') },
    { project: { name: 'acme-analytics', config: { a: 1 }, plugin_dependencies: ['a >> b'], presets: {} } },
    { namespace: { name: 'marketing', config: { k: 'v' } } },
    { value: 'c2VjcmV0', namespace_name: 'marketing' },
    { config: { PROJECT: 'p' }, answers: { TABLE: 't' }, role: 'hook' },
    {
      job: 'attribution',
      from: '2026-03-01',
      to: '2026-03-02T06:00:00+07:00',
      downstream: true,
      parallel: false,
    },
  ];
}

type Mutation = { at: number; op: 'replace' | 'delete' | 'nul' | 'wrap'; value: unknown };

/** Apply one mutation at the `at`-th node (depth-first) of a JSON value. */
function mutate(body: unknown, m: Mutation): unknown {
  const copy = structuredClone(body);
  let n = 0;
  const visit = (v: unknown, set: (x: unknown) => void, del: () => void): boolean => {
    if (n++ === m.at) {
      if (m.op === 'replace') set(m.value);
      else if (m.op === 'delete') del();
      else if (m.op === 'wrap') set([v, v]);
      else set(typeof v === 'string' ? `${v}\u0000` : { '\u0000': v });
      return true;
    }
    if (Array.isArray(v))
      return v.some((x, i) =>
        visit(
          x,
          (y) => (v[i] = y),
          () => v.splice(i, 1),
        ),
      );
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      return Object.keys(o).some((k) =>
        visit(
          o[k],
          (y) => (o[k] = y),
          () => delete o[k],
        ),
      );
    }
    return false;
  };
  let root = copy;
  visit(
    copy,
    (y) => (root = y),
    () => (root = undefined),
  );
  return root;
}

const mutation = fc.record({
  at: fc.nat({ max: 400 }),
  op: fc.constantFrom('replace', 'delete', 'nul', 'wrap') as fc.Arbitrary<Mutation['op']>,
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.string({ unit: 'binary', maxLength: 10 }),
    fc.constantFrom('', '..', 'x'.repeat(200), -1, 1e308, '\ud800', 'a\udfffb', '\u0000'),
  ),
});

const body = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.nat(), mutation)
      .map(([i, m]) => JSON.stringify(mutate(validBodies()[i % validBodies().length], m))),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 1, arbitrary: fc.nat({ max: 3000 }).map((d) => `{"jobs":${'['.repeat(d)}${']'.repeat(d)}}`) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  undefined,
);

describe('any request to any route', () => {
  it('walks every declared route', () => {
    expect(routes.length).toBeGreaterThanOrEqual(20);
    expect(routes).toContainEqual({
      method: 'POST',
      path: '/api/v1beta1/project/{project}/namespace/{namespace}/deploy',
      params: ['project', 'namespace'],
    });
  });

  it('never answers 5xx, a stack trace or a library’s words, and the server stays up', async () => {
    const request = fc.nat().chain((i) => {
      const route = routes[i % routes.length]!;
      return fc.record({
        route: fc.constant(route),
        params: fc.tuple(...route.params.map(paramValue)),
        query: queryString,
        body,
        contentType,
      });
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ route, params, query, body, contentType }) => {
        let url = route.path;
        route.params.forEach((p, i) => {
          url = url.replace(`{${p}}`, params[i] ?? '');
        });
        if (query) url += `?${query}`;
        const hasBody = body !== undefined && route.method !== 'GET';
        const r = await s.app.inject({
          method: route.method as 'GET',
          url,
          ...(hasBody ? { payload: body } : {}),
          headers: hasBody && contentType ? { 'content-type': contentType } : {},
        });
        const where = `${route.method} ${url} ${String(body).slice(0, 200)}`;
        expect(r.statusCode, where).toBeLessThan(500);
        if (r.statusCode >= 400) {
          expect(r.body, where).not.toMatch(LEAKS);
          const answer = r.json();
          expect(typeof answer.code, where).toBe('string');
          expect(typeof answer.message, where).toBe('string');
        }
      }),
      { numRuns: RUNS },
    );
    expect((await s.app.inject({ method: 'GET', url: '/ping' })).statusCode).toBe(200);
  });
});
