import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { POD_TOKEN_PREFIX, type PodTokenScope } from '../../src/scheduler/airflow/contract.js';
import {
  mintPodToken,
  POD_TOKEN_MAX_LENGTH,
  podTokenKey,
  scopeMismatch,
  verifyPodToken,
} from '../../src/services/pod-token.js';

const APP_KEY = 'k'.repeat(32);
const key = podTokenKey(APP_KEY);
const T0 = new Date('2026-03-02T03:00:05Z');
const HOUR = 3_600_000;
const scope: PodTokenScope = {
  project: 'acme-analytics',
  job: 'campaign-performance',
  instanceType: 'hook',
  instanceName: 'page-oncall',
  scheduledAt: '2026-03-02T03:00:00Z',
};

const mint = (s: PodTokenScope = scope, now = T0, ttlMs = HOUR, k = key) =>
  mintPodToken(s, { key: k, now, ttlMs }).token;
const at = (ms: number) => new Date(T0.getTime() + ms);
const parts = (token: string) => token.slice(POD_TOKEN_PREFIX.length).split('.') as [string, string];
const claims = (token: string) => JSON.parse(Buffer.from(parts(token)[0], 'base64url').toString('utf8'));

describe('pod token format', () => {
  it('is optimus-pod.<base64url JSON payload>.<base64url HMAC-SHA-256>', () => {
    const token = mint();
    expect(token).toMatch(/^optimus-pod\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(claims(token)).toEqual({
      v: 1,
      p: 'acme-analytics',
      j: 'campaign-performance',
      t: 'hook',
      n: 'page-oncall',
      s: '2026-03-02T03:00:00.000Z',
      iat: T0.getTime(),
      exp: T0.getTime() + HOUR,
    });
    const [payload, sig] = parts(token);
    expect(sig).toBe(
      createHmac('sha256', key).update(`${POD_TOKEN_PREFIX}${payload}`).digest().toString('base64url'),
    );
  });

  it('tells its expiry to the minter', () => {
    expect(mintPodToken(scope, { key, now: T0, ttlMs: HOUR }).expiresAt).toEqual(at(HOUR));
  });

  it("normalises the scope as run input reads a request: TYPE_HOOK, __dash__, the time's zone", () => {
    const token = mint({
      ...scope,
      instanceType: 'TYPE_HOOK' as 'hook',
      instanceName: 'page__dash__oncall',
      scheduledAt: '2026-03-02T10:00:00+07:00',
    });
    expect(claims(token)).toMatchObject({ t: 'hook', n: 'page-oncall', s: '2026-03-02T03:00:00.000Z' });
  });

  it('signs with a key derived from the app key, not the app key bytes the secret cipher uses', () => {
    expect(key).toHaveLength(32);
    expect(key.equals(Buffer.from(APP_KEY).subarray(0, 32))).toBe(false);
    expect(podTokenKey(APP_KEY).equals(key)).toBe(true);
    expect(podTokenKey('j'.repeat(32)).equals(key)).toBe(false);
    // The secret cipher's key is the app key's first 32 bytes: a token signed under it does not verify.
    const underRaw = mint(scope, T0, HOUR, Buffer.from(APP_KEY).subarray(0, 32));
    expect(verifyPodToken(underRaw, { key, now: T0 })).toEqual({ ok: false, reason: 'bad_signature' });
  });
});

describe('verifying a pod token', () => {
  it('gives back the scope, issue and expiry of a token it minted', () => {
    expect(verifyPodToken(mint(), { key, now: at(HOUR - 1) })).toEqual({
      ok: true,
      scope: { ...scope, scheduledAt: '2026-03-02T03:00:00.000Z' },
      issuedAt: T0,
      expiresAt: at(HOUR),
    });
  });

  it('refuses it from its expiry on', () => {
    expect(verifyPodToken(mint(), { key, now: at(HOUR) })).toEqual({ ok: false, reason: 'expired' });
    expect(verifyPodToken(mint(), { key, now: at(30 * HOUR) })).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses one issued more than a minute ahead of its clock, and accepts small skew', () => {
    expect(verifyPodToken(mint(), { key, now: at(-61_000) })).toEqual({ ok: false, reason: 'not_yet_valid' });
    expect(verifyPodToken(mint(), { key, now: at(-30_000) }).ok).toBe(true);
  });

  it('refuses a token signed with another app key', () => {
    const other = mint(scope, T0, HOUR, podTokenKey('o'.repeat(32)));
    expect(verifyPodToken(other, { key, now: T0 })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a payload changed to another node or a later expiry, even when well-formed', () => {
    const token = mint();
    const [, sig] = parts(token);
    for (const change of [{ n: 'notify-team' }, { j: 'other-job' }, { exp: T0.getTime() + 1000 * HOUR }]) {
      const payload = Buffer.from(JSON.stringify({ ...claims(token), ...change })).toString('base64url');
      expect(verifyPodToken(`${POD_TOKEN_PREFIX}${payload}.${sig}`, { key, now: T0 })).toEqual({
        ok: false,
        reason: 'bad_signature',
      });
    }
  });

  it('refuses every one-character change of the signature, the spare bits of its last one included', () => {
    const token = mint();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = token.length - 43; i < token.length; i++) {
      const c = token[i]!;
      const swapped = alphabet[(alphabet.indexOf(c) + 1) % 64]!;
      const altered = token.slice(0, i) + swapped + token.slice(i + 1);
      expect(verifyPodToken(altered, { key, now: T0 }).ok, `position ${i}`).toBe(false);
    }
  });

  it('calls malformed what does not have the shape, without throwing', () => {
    const token = mint();
    const cases = [
      '',
      'optimus-pod.',
      'optimus-pod..',
      token.replace(POD_TOKEN_PREFIX, 'optimus-pot.'),
      `${token}.x`,
      token.slice(0, -1),
      `${token}A`,
      token.replace('.', '.\n'),
      `optimus-pod.${'A'.repeat(POD_TOKEN_MAX_LENGTH)}.${parts(token)[1]}`,
      `optimus-pod.ü.${parts(token)[1]}`,
      undefined as unknown as string,
    ];
    for (const bad of cases)
      expect(verifyPodToken(bad, { key, now: T0 }), String(bad).slice(0, 40)).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^(malformed|bad_signature)$/),
      });
    expect(verifyPodToken('', { key, now: T0 })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('calls malformed a correctly signed payload that is not a version-1 scope', () => {
    const sign = (payload: unknown) => {
      const p = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)).toString(
        'base64url',
      );
      const signed = `${POD_TOKEN_PREFIX}${p}`;
      return `${signed}.${createHmac('sha256', key).update(signed).digest().toString('base64url')}`;
    };
    const good = claims(mint());
    expect(verifyPodToken(sign(good), { key, now: T0 }).ok).toBe(true);
    for (const bad of [
      'not json',
      '[]',
      'null',
      { ...good, v: 2 },
      { ...good, t: 'post' },
      { ...good, s: 'yesterday' },
      { ...good, exp: '9999999999999' },
      { ...good, p: 7 },
    ])
      expect(verifyPodToken(sign(bad), { key, now: T0 })).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('matching a request against a scope', () => {
  const request = {
    project: 'acme-analytics',
    job: 'campaign-performance',
    instanceType: 'TYPE_HOOK',
    instanceName: 'page__dash__oncall',
    scheduledAt: '2026-03-02T05:00:00+02:00',
  };

  it('matches the same node and instant however the request spells them', () => {
    expect(scopeMismatch(scope, request)).toEqual([]);
    expect(scopeMismatch(scope, { ...request, scheduledAt: '2026-03-02T03:00:00.000Z' })).toEqual([]);
  });

  it('names each field that differs', () => {
    expect(scopeMismatch(scope, { ...request, project: 'other' })).toEqual(['project']);
    expect(scopeMismatch(scope, { ...request, job: 'other' })).toEqual(['job']);
    expect(scopeMismatch(scope, { ...request, instanceType: 'task' })).toEqual(['instanceType']);
    expect(scopeMismatch(scope, { ...request, instanceName: 'notify-team' })).toEqual(['instanceName']);
    expect(scopeMismatch(scope, { ...request, scheduledAt: '2026-03-02T03:00:01Z' })).toEqual([
      'scheduledAt',
    ]);
  });
});
