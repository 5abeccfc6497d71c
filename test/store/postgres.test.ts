import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { OptimusError } from '../../src/core/errors.js';
import { createStore } from '../../src/store/create-store.js';
import { startPostgres } from '../helpers/postgres.js';
import { replayStoreContract } from './replay-store.case.js';
import { runStoreContract } from './run-store.case.js';
import { storeContract } from './store.case.js';

const server = await startPostgres();
const pgServer = 'skipped' in server ? undefined : server;
const skipped = 'skipped' in server ? server.skipped : undefined;
// One line says why; the contract's tests are then reported as skipped, never as passed.
if (skipped) console.warn(`PostgreSQL store tests skipped: ${skipped}`);

describe.skipIf(skipped !== undefined)(`PostgreSQL${skipped ? ` (skipped: ${skipped})` : ''}`, () => {
  afterAll(() => pgServer!.stop());

  storeContract('PostgreSQL', () => createStore({ url: pgServer!.url }));
  runStoreContract(
    'PostgreSQL, two servers',
    () => createStore({ url: pgServer!.url }),
    () => createStore({ url: pgServer!.url }),
  );
  replayStoreContract(
    'PostgreSQL, two servers',
    () => createStore({ url: pgServer!.url }),
    () => createStore({ url: pgServer!.url }),
  );

  describe('PostgreSQL store', () => {
    it('reports kind "postgres" and opens an already-migrated database', async () => {
      const first = await createStore({ url: pgServer!.url });
      const second = await createStore({ url: pgServer!.url });
      try {
        expect(first.kind).toBe('postgres');
        const name = `reopen-${Date.now()}`;
        await first.upsertProject({ name, config: {}, pluginDependencies: [] });
        expect(await second.getProject(name)).toMatchObject({ name });
      } finally {
        await Promise.all([first.close(), second.close()]);
      }
    });

    it('refuses a database migrated by a newer version', async () => {
      const schema = `optimus_future_${Date.now().toString(36)}`;
      const admin = new pg.Client({ connectionString: pgServer!.url });
      await admin.connect();
      try {
        await admin.query(`create schema ${schema}`);
        const url = new URL(pgServer!.url);
        url.searchParams.set('options', `-c search_path=${schema}`);
        await (await createStore({ url: url.toString() })).close();
        await admin.query(
          `insert into ${schema}.kysely_migration (name, timestamp) values ('9999_future', '2099')`,
        );
        const e = await createStore({ url: url.toString() }).catch((err: unknown) => err);
        expect(e).toMatchObject({ code: 'STORE_MIGRATION_FAILED', hint: expect.stringContaining('newer') });
      } finally {
        await admin.query(`drop schema ${schema} cascade`);
        await admin.end();
      }
    });

    it('reports a missing database as STORE_UNREACHABLE without the password', async () => {
      const url = new URL(pgServer!.url);
      url.password = 'pa55-w0rd-secret';
      url.pathname = '/no_such_database';
      const e = await createStore({ url: url.toString() }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(OptimusError);
      expect(e).toMatchObject({ code: 'STORE_UNREACHABLE', category: 'io' });
      expect((e as OptimusError).message).toContain('no_such_database');
      expect((e as OptimusError).message).not.toContain('pa55-w0rd-secret');
    });
  });
});

describe('PostgreSQL connection failures', () => {
  it('become STORE_UNREACHABLE with a hint and no password in the message', async () => {
    const e = await createStore({ url: 'postgres://optimus:hunter2-S3CRET@127.0.0.1:1/optimus' }).catch(
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(OptimusError);
    const err = e as OptimusError;
    expect(err).toMatchObject({ code: 'STORE_UNREACHABLE', category: 'io' });
    expect(err.hint).toBeTruthy();
    expect(err.message).toContain('postgres://optimus:***@127.0.0.1:1/optimus');
    expect(`${err.message} ${err.hint} ${err.stack}`).not.toContain('hunter2-S3CRET');
    expect(err.cause).toBeUndefined();
  });

  it('hide passwords given as a parameter, percent-encoded or in an unparseable URL', async () => {
    for (const url of [
      'postgresql://me@127.0.0.1:1/db?password=qwerty-pw-123',
      'postgres://me:p%40ss%2Fqwerty-pw-123@127.0.0.1:1/db',
      'postgres://me:qwerty-pw-123@127.0.0.1:99999/db',
    ]) {
      const e = (await createStore({ url }).catch((err: unknown) => err)) as OptimusError;
      expect(e).toMatchObject({ code: 'STORE_UNREACHABLE', category: 'io' });
      expect(e.message).not.toMatch(/qwerty|p@ss/);
    }
  });
});
