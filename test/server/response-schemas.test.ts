/**
 * Every route that answers JSON declares its response schema, so the OpenAPI document types its
 * answer and the console's generated client cannot drift from the server. Walked from the document
 * itself (generated from the route declarations), so a new route is covered the day it is added.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, testServer } from '../helpers/server.js';

/** Routes that answer something other than JSON: a zip, an event stream. */
const NOT_JSON = [/^GET \/plugins$/, /^GET .*\/events$/];

/**
 * Routes (of other files) that answer JSON without a response schema yet, as `METHOD /path`: each
 * one is reported as skipped rather than failing. Shrink it as schemas are added; it is empty today.
 */
const PENDING: readonly string[] = [];

let s: TestServer;
let operations: { key: string; typed: boolean }[] = [];
beforeAll(async () => {
  s = await testServer();
  const doc = (await s.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
  for (const [path, ops] of Object.entries(
    doc.paths as Record<string, Record<string, { responses: object }>>,
  ))
    for (const [method, op] of Object.entries(ops)) {
      const typed = Object.entries(op.responses).some(
        ([status, r]) => status !== 'default' && (r as { content?: unknown }).content !== undefined,
      );
      operations.push({ key: `${method.toUpperCase()} ${path}`, typed });
    }
  operations = operations.sort((a, b) => a.key.localeCompare(b.key));
});
afterAll(async () => s.close());

describe('response schemas', () => {
  it('covers the routes the console reads (the walk finds them)', () => {
    const keys = operations.map((o) => o.key);
    for (const k of [
      'GET /api/v1beta1/jobs',
      'GET /api/v1beta1/deploys',
      'GET /api/v1beta1/whoami',
      'GET /api/v1beta1/plugins/{name}/usage',
      'GET /api/v1beta1/project/{project}/namespace/{namespace}/job/{job}',
    ])
      expect(keys).toContain(k);
  });

  it('is declared by every route that answers JSON', () => {
    const missing = operations
      .filter((o) => !o.typed && !NOT_JSON.some((r) => r.test(o.key)) && !PENDING.includes(o.key))
      .map((o) => o.key);
    expect(missing).toEqual([]);
    const pendingTyped = operations.filter((o) => o.typed && PENDING.includes(o.key)).map((o) => o.key);
    expect(pendingTyped, 'typed now: remove them from PENDING').toEqual([]);
  });

  // Listed so a test report shows what is left to type.
  for (const key of PENDING) it.skip(`${key} declares a response schema`, () => {});
});
