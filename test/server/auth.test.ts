import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthRequest, authenticate, redactQuery } from '../../src/server/auth.js';
import { type TestServer, testServer } from '../helpers/server.js';

const req = (authorization?: string, query: unknown = {}): AuthRequest => ({
  headers: authorization === undefined ? {} : { authorization },
  query,
});
/** What a client sees: the status and code of the refusal, or 'ok'. */
function outcome(request: AuthRequest, tokens: string[], opts: { public?: boolean } = {}): string {
  try {
    authenticate(request, tokens, opts);
    return 'ok';
  } catch (e) {
    const err = e as { status: number; code: string };
    return `${err.status} ${err.code}`;
  }
}

describe('bearer tokens', () => {
  it('accepts every token of a server configured with more than one', () => {
    const tokens = ['tok-ci-0001', 'tok-team-0002', 'third'];
    for (const t of tokens) expect(outcome(req(`Bearer ${t}`), tokens), t).toBe('ok');
    expect(outcome(req('Bearer tok-other-03'), tokens)).toBe('403 FORBIDDEN');
  });

  it('refuses a token that is a prefix, an extension or another length of a real one', () => {
    const tokens = ['secret-token'];
    for (const given of ['secret-toke', 'secret-token2', 's', 'SECRET-TOKEN', 'secret-tokeN'])
      expect(outcome(req(`Bearer ${given}`), tokens), given).toBe('403 FORBIDDEN');
  });

  it('wants the Bearer scheme, in any case, with the token after whitespace', () => {
    const tokens = ['abc'];
    expect(outcome(req('bearer abc'), tokens)).toBe('ok');
    expect(outcome(req('BEARER   abc  '), tokens)).toBe('ok');
    expect(outcome(req('Bearer\tabc'), tokens)).toBe('ok');
    for (const header of [undefined, '', 'abc', 'Basic abc', 'Bearer', 'Bearer ', 'xBearer abc', 'Bearerabc'])
      expect(outcome(req(header), tokens), String(header)).toBe('401 UNAUTHENTICATED');
  });

  it('says how to fix each refusal', () => {
    try {
      authenticate(req(), ['t']);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({
        details: [],
        message: 'this server requires a bearer token',
        hint: expect.stringContaining('OPTIMUS_TOKEN'),
      });
    }
    try {
      authenticate(req('Bearer x'), ['t']);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({
        details: [],
        message: 'the bearer token is not accepted by this server',
        hint: 'check OPTIMUS_TOKEN',
      });
    }
  });

  it('lets everything through on a server without tokens, and public routes without a token', () => {
    expect(outcome(req(), [])).toBe('ok');
    expect(outcome(req('Bearer anything'), [])).toBe('ok');
    expect(outcome(req(), ['t'], { public: true })).toBe('ok');
    expect(outcome(req(), ['t'], { public: false })).toBe('401 UNAUTHENTICATED');
  });
});

describe('tokens in the query string', () => {
  it('are refused under any of the usual names, in any case, even on public routes', () => {
    for (const key of ['token', 'access_token', 'api_key', 'apikey', 'auth', 'bearer', 'Access_Token']) {
      expect(outcome(req(undefined, { [key]: 'x' }), []), key).toBe('400 TOKEN_IN_QUERY');
      expect(outcome(req('Bearer t', { [key]: 'x' }), ['t'], { public: true }), key).toBe(
        '400 TOKEN_IN_QUERY',
      );
    }
    expect(outcome(req(undefined, { limit: '3', tokens: 'x' }), [])).toBe('ok');
    expect(outcome(req(undefined, null), [])).toBe('ok');
    expect(outcome(req(undefined, undefined), [])).toBe('ok');
  });

  it('name the parameter and never echo its value', () => {
    try {
      authenticate(req(undefined, { limit: '1', access_token: 'hunter2' }), []);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({
        message: expect.stringContaining('"access_token"'),
        details: [{ path: 'query.access_token', message: 'tokens go in the Authorization header' }],
        hint: expect.stringContaining('Authorization: Bearer'),
      });
      expect(JSON.stringify(e)).not.toContain('hunter2');
    }
  });

  it('are replaced in the logged URL, like every query value', () => {
    expect(redactQuery('/api/x?token=abc&limit=3&flag')).toBe(
      '/api/x?token=[redacted]&limit=[redacted]&flag',
    );
    expect(redactQuery('/api/x?a=b=c')).toBe('/api/x?a=[redacted]');
    expect(redactQuery('/api/x')).toBe('/api/x');
    expect(redactQuery('/api/x?')).toBe('/api/x?');
    expect(redactQuery('?=secret&k=v')).toBe('?=[redacted]&k=[redacted]');
  });
});

describe('the server with two tokens', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await testServer({ tokens: ['first-token', 'second-token-longer'] });
  });
  afterAll(async () => t.close());
  const get = (url: string, authorization?: string) =>
    t.app.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });

  it('serves a client holding either token and refuses the rest', async () => {
    expect((await get('/api/v1beta1/plugins', 'Bearer first-token')).statusCode).toBe(200);
    expect((await get('/api/v1beta1/plugins', 'Bearer second-token-longer')).statusCode).toBe(200);
    expect((await get('/api/v1beta1/plugins', 'Bearer third')).json().code).toBe('FORBIDDEN');
    expect((await get('/api/v1beta1/plugins')).json().code).toBe('UNAUTHENTICATED');
    expect((await get('/api/v1beta1/plugins?token=first-token')).json().code).toBe('TOKEN_IN_QUERY');
    expect((await get('/ping')).statusCode).toBe(200);
    expect((await get('/api/v1beta1/version')).statusCode).toBe(200);
  });
});
