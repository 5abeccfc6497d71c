import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, JsonText } from '../../src/cli/api-client.js';

/** A real HTTP server on 127.0.0.1 whose answers each test picks by path. */
let server: Server;
let base: string;
const seen: { method: string; url: string; headers: Record<string, unknown>; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      switch (req.url) {
        case '/json':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"n":1}');
          return;
        case '/echo':
          res.writeHead(201, { 'content-type': 'application/json' }).end(body);
          return;
        case '/html':
          res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not an optimus server</html>');
          return;
        case '/bad-request':
          res
            .writeHead(400, { 'content-type': 'application/json' })
            .end('{"code":"REQUEST_INVALID","message":"invalid request body: x is required","hint":"add x"}');
          return;
        case '/proxy-error':
          res.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' }).end('<h1>502</h1>');
          return;
        case '/forbidden':
          res
            .writeHead(403, { 'content-type': 'application/json' })
            .end('{"code":"FORBIDDEN","message":"token not accepted"}');
          return;
        case '/etag':
          if (req.headers['if-none-match'] === '"v1"') res.writeHead(304).end();
          else res.writeHead(200, { etag: '"v1"' }).end(Buffer.from([1, 2, 3]));
          return;
        case '/slow':
          setTimeout(() => res.writeHead(200).end('{}'), 2_000).unref();
          return;
        default:
          res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('the CLI’s API client', () => {
  it('sends JSON with the token and reads JSON back', async () => {
    const api = createApiClient({ host: base, token: 's3cret' });
    expect(await api.get('/json')).toEqual({ ok: true, n: 1 });
    expect(await api.post('/echo', { a: 'é' })).toEqual({ a: 'é' });
    expect(await api.put('/echo', new JsonText('{"pre":"serialised"}'))).toEqual({ pre: 'serialised' });
    const post = seen.find((s) => s.url === '/echo' && s.method === 'POST')!;
    expect(post.headers.authorization).toBe('Bearer s3cret');
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers['content-length']).toBe(String(Buffer.byteLength('{"a":"é"}')));
  });

  it('keeps the server’s error code, message and hint', async () => {
    const api = createApiClient({ host: base });
    await expect(api.post('/bad-request', {})).rejects.toMatchObject({
      code: 'REQUEST_INVALID',
      status: 400,
      hint: 'add x',
    });
  });

  it('names the status of an error answer that is not the API’s JSON', async () => {
    await expect(createApiClient({ host: base }).get('/proxy-error')).rejects.toMatchObject({
      code: 'SERVER_ERROR',
      message: '502 Bad Gateway',
    });
  });

  it('says a refused token was refused, without quoting it', async () => {
    const err = await createApiClient({ host: base, token: 'hunter2' })
      .get('/forbidden')
      .catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'AUTH_REFUSED' });
    expect(String((err as Error).message)).toContain('token not accepted');
    expect(JSON.stringify(err)).not.toContain('hunter2');
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('answers a 2xx that is not JSON with a clear error, not a parser’s', async () => {
    await expect(createApiClient({ host: base }).get('/html')).rejects.toMatchObject({
      code: 'SERVER_ANSWER_INVALID',
    });
  });

  it('asks with the ETag it holds and gets nothing back while it is current', async () => {
    const api = createApiClient({ host: base });
    expect(await api.bytesIfChanged('/etag')).toEqual({ bytes: new Uint8Array([1, 2, 3]), etag: '"v1"' });
    expect(await api.bytesIfChanged('/etag', '"v1"')).toBeUndefined();
    expect(await api.bytes('/etag')).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('reports a server that does not answer in time, and one that is not there', async () => {
    await expect(createApiClient({ host: base, timeoutMs: 200 }).get('/slow')).rejects.toMatchObject({
      code: 'SERVER_UNREACHABLE',
      message: expect.stringContaining('no answer within 0.2 s'),
    });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(createApiClient({ host: `127.0.0.1:${port}` }).get('/json')).rejects.toMatchObject({
      code: 'SERVER_UNREACHABLE',
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });
});
