/**
 * Wrapper images without an engine: the tag rule as `optimus plugin image` and the plugins route
 * apply it, the build context, and the base image's entrypoint run by the machine's static busybox
 * against a real HTTP server on 127.0.0.1 (the Docker end-to-end test is test/e2e/wrapper-image.test.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plugin } from '../../../src/core/plugin.js';
import { wrapperImageRef } from '../../../src/scheduler/airflow/contract.js';
import {
  pluginExecScript,
  wrapperBuild,
  wrapperImageOf,
  wrapperImagesOf,
  writeWrapperContext,
} from '../../../src/scheduler/airflow/wrapper-image.js';
import { runInputTar } from '../../../src/services/run-input.js';
import { tempDir } from '../../plugins/helpers.js';

const ENTRYPOINT_SH = join(import.meta.dirname, '../../../images/base/entrypoint.sh');
const BUSYBOX = '/bin/busybox';

function plugin(over: Partial<Plugin> = {}, version: Partial<Plugin['versions'][string]> = {}): Plugin {
  return {
    name: 'wh-load',
    description: 'loads',
    version: '1.2.0',
    dialect: 'v3',
    versions: {
      default: {
        image: 'docker.io/acme/wh-load',
        tag: '1.2.0',
        entrypoint: { shell: '/bin/sh', script: 'wh-load run' },
        ...version,
      },
    },
    questions: [],
    configs: [],
    defaultConfig: {},
    defaultAssets: {},
    mods: [],
    hints: {},
    ...over,
  } as Plugin;
}

const images = { baseImage: 'optimus-ts/base:1', registry: 'registry.acme/optimus' };

describe('wrapper image tags', () => {
  it('gives the same tag for the same plugin, base image and registry', () => {
    expect(wrapperImageOf(plugin(), images)).toBe(wrapperImageOf(plugin(), images));
    expect(wrapperImageOf(plugin(), images)).toMatch(
      /^registry\.acme\/optimus\/wh-load:1\.2\.0-[0-9a-f]{8}$/,
    );
  });

  it('is the contract rule over the executor image, base image and entrypoint', () => {
    expect(wrapperImageOf(plugin(), images)).toBe(
      wrapperImageRef({
        plugin: 'wh-load',
        executorImage: 'docker.io/acme/wh-load:1.2.0',
        entrypoint: { shell: '/bin/sh', script: 'wh-load run' },
        ...images,
      }),
    );
  });

  it('changes when the executor tag, the base image or the entrypoint changes', () => {
    const tag = wrapperImageOf(plugin(), images)!;
    const others = [
      wrapperImageOf(plugin({}, { tag: '1.2.1' }), images),
      wrapperImageOf(plugin({}, { image: 'docker.io/acme/other' }), images),
      wrapperImageOf(plugin(), { ...images, baseImage: 'optimus-ts/base:2' }),
      wrapperImageOf(plugin({}, { entrypoint: { shell: '/bin/sh', script: 'wh-load run --fast' } }), images),
      wrapperImageOf(plugin({}, { entrypoint: { shell: '/bin/bash', script: 'wh-load run' } }), images),
      wrapperImageOf(plugin({}, { entrypoint: { shell: '', script: '', args: ['wh-load', 'run'] } }), images),
    ];
    for (const other of others) expect(other).not.toBe(tag);
    expect(new Set(others).size).toBe(others.length);
    expect(wrapperImageOf(plugin({}, { tag: '1.2.1' }), images)).toMatch(/:1\.2\.1-[0-9a-f]{8}$/);
  });

  it('does not change with the description, configs, questions or defaults', () => {
    const tag = wrapperImageOf(plugin(), images);
    const changed = plugin({
      description: 'something else',
      version: '9.9.9',
      configs: [{ name: 'TABLE', required: true, secret: false }],
      defaultConfig: { BATCH: '5' },
      defaultAssets: { 'q.sql': 'select 1' },
      questions: [{ name: 'TABLE', prompt: 'table', required: true, subquestions: [] }],
    });
    expect(wrapperImageOf(changed, images)).toBe(tag);
  });

  it('changes only the repository part when only the registry changes', () => {
    const a = wrapperImageOf(plugin(), images)!;
    const b = wrapperImageOf(plugin(), { ...images, registry: 'localhost:5000/other/' })!;
    expect(b.startsWith('localhost:5000/other/wh-load:')).toBe(true);
    expect(b.split(':').at(-1)).toBe(a.split(':').at(-1));
  });

  it('lists one wrapper image per version, default first', () => {
    const p = plugin();
    p.versions['1.1'] = { ...p.versions.default!, tag: '1.1.9' };
    const all = wrapperImagesOf(p, images);
    expect(Object.keys(all)).toEqual(['default', '1.1']);
    expect(all['1.1']).toMatch(/wh-load:1\.1\.9-/);
  });
});

describe('wrapper build context', () => {
  it('starts from the executor image and copies the toolbox from the base image', () => {
    const b = wrapperBuild(plugin(), images);
    const lines = b.files.Dockerfile!.split('\n');
    expect(lines).toContain('FROM optimus-ts/base:1 AS optimus-base');
    expect(lines).toContain('FROM docker.io/acme/wh-load:1.2.0');
    expect(lines).toContain('COPY --from=optimus-base /opt/optimus /opt/optimus');
    expect(lines).toContain('COPY plugin.sh /opt/optimus/plugin.sh');
    expect(lines).toContain('ENTRYPOINT ["/opt/optimus/busybox", "sh", "/opt/optimus/entrypoint.sh"]');
    expect(JSON.parse(b.files['wrapper.json']!)).toMatchObject({
      image: b.image,
      executor_image: 'docker.io/acme/wh-load:1.2.0',
      base_image: 'optimus-ts/base:1',
    });
  });

  it('writes the context files, replacing an older context', async () => {
    const dir = join(tempDir('optimus-wrapper-'), 'ctx');
    mkdirSync(dir);
    writeFileSync(join(dir, 'stale'), 'old');
    await writeWrapperContext(dir, wrapperBuild(plugin(), images));
    expect(existsSync(join(dir, 'stale'))).toBe(false);
    expect(readFileSync(join(dir, 'plugin.sh'), 'utf8')).toContain("exec '/bin/sh' '-c' 'wh-load run'");
  });

  it('refuses a plugin without an entrypoint, saying what to add', () => {
    expect(() => wrapperBuild(plugin({}, { entrypoint: undefined }), images)).toThrow(
      /declares no entrypoint/,
    );
  });

  it('refuses an executor image that a Dockerfile line cannot hold', () => {
    expect(() => wrapperBuild(plugin({}, { image: 'acme/x\nRUN rm -rf /' }), images)).toThrow(
      /is not an image reference/,
    );
  });

  it('quotes the entrypoint so the shell reads it back unchanged', async () => {
    if (!existsSync(BUSYBOX)) return;
    const script = `echo "it's $((1+1))"; printf '%s\\n' 'a b'`;
    const dir = tempDir('optimus-wrapper-');
    writeFileSync(join(dir, 'p.sh'), pluginExecScript({ shell: '/bin/sh', script }));
    const r = await runSh(['sh', join(dir, 'p.sh')], {});
    expect(r.stdout).toBe("it's 2\na b\n");
  });
});

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** The run-input route as the entrypoint sees it: answers set per test, requests recorded. */
let server: Server;
let url = '';
let answers: ((seen: Seen) => { status: number; body: Buffer | string })[] = [];
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(s);
      const answer = (answers.shift() ?? (() => ({ status: 500, body: 'no answer set' })))(s);
      res.writeHead(answer.status, {
        'content-type': answer.status === 200 ? 'application/x-tar' : 'application/json',
      });
      res.end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function runSh(
  argv: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(BUSYBOX, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const TOKEN = 'pod-token-never-printed-7c1d';
/** Quotes, a multi-line value and shell code that would leave a file behind if it were ever run. */
const SECRET =
  's3cr3t \'quoted\' $(/bin/busybox touch "$OPTIMUS_WRAPPER_HOME/ran") `/bin/busybox touch "$OPTIMUS_WRAPPER_HOME/ran2"`\nsecond line\\n';

/** The entrypoint outside a container: its home is a temp dir holding busybox and a plugin.sh. */
async function runEntrypoint(pluginScript: string, env: Record<string, string> = {}) {
  const home = tempDir('optimus-wrapper-home-');
  symlinkSync(BUSYBOX, join(home, 'busybox'));
  writeFileSync(
    join(home, 'plugin.sh'),
    pluginExecScript({ shell: BUSYBOX, script: '', args: [BUSYBOX, 'sh', '-c', pluginScript] }),
  );
  const jobDir = join(home, 'data');
  const r = await runSh(['sh', ENTRYPOINT_SH], {
    PATH: '/nonexistent',
    OPTIMUS_WRAPPER_HOME: home,
    OPTIMUS_HOST: `${url}/`,
    OPTIMUS_POD_TOKEN: TOKEN,
    PROJECT: 'acme',
    JOB_NAME: 'revenue-daily',
    INSTANCE_TYPE: 'task',
    INSTANCE_NAME: 'warehouse-load',
    SCHEDULED_AT: '2026-03-01T02:00:00Z',
    JOB_DIR: jobDir,
    OPTIMUS_FETCH_BACKOFF: '0',
    ...env,
  });
  return { ...r, jobDir };
}

const input = {
  envs: { TABLE: 'acme.sales', QUOTED: "it's", MULTI: 'one\ntwo\n\nfour', EMPTY: '' },
  secrets: { WH_TOKEN: SECRET },
  files: { 'query.sql': 'select * from acme.raw', 'sub/inner.txt': 'inner' },
};
const tarOf = () => runInputTar(input, new Date('2026-03-01T02:00:00Z'));

describe.skipIf(!existsSync(BUSYBOX))('base image entrypoint', () => {
  it('fetches the tar with the pod token, loads .env and .secret exactly and runs the plugin in in/', async () => {
    answers = [() => ({ status: 200, body: tarOf() })];
    seen.length = 0;
    const script = [
      'echo "pwd=$PWD"',
      'echo "table=$TABLE"',
      `[ "$WH_TOKEN" = "$(printf '%s' "$EXPECTED")" ] && echo "secret ok"`,
      'printf "%s|" "$QUOTED" "$MULTI" "$EMPTY"; echo',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, run by busybox sh
      '[ -z "${OPTIMUS_POD_TOKEN:-}" ] && echo "no token"',
      '/bin/busybox cat query.sql sub/inner.txt; echo',
      'exit 7',
    ].join('\n');
    // The expected secret reaches the plugin as a separate variable so the comparison happens inside.
    const r = await runEntrypoint(script.replace('$EXPECTED', '$WANT'), { WANT: SECRET });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(7);
    expect(r.stdout).toBe(
      `pwd=${r.jobDir}/in\ntable=acme.sales\nsecret ok\nit's|one\ntwo\n\nfour||\nno token\nselect * from acme.rawinner\n`,
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/api/v1beta1/project/acme/job/revenue-daily/run_input',
      headers: {
        accept: 'application/x-tar',
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
      },
    });
    expect(JSON.parse(seen[0]!.body)).toEqual({
      scheduled_at: '2026-03-01T02:00:00Z',
      instance_type: 'task',
      instance_name: 'warehouse-load',
    });
    expect(existsSync(join(r.jobDir, '.optimus-run-input.tar'))).toBe(false);
  });

  it('never runs a value as shell code', async () => {
    answers = [() => ({ status: 200, body: tarOf() })];
    const r = await runEntrypoint('/bin/busybox ls "$OPTIMUS_WRAPPER_HOME"');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['busybox', 'data', 'plugin.sh']);
  });

  it('fails in one line, without the token, when the server refuses the token', async () => {
    answers = [() => ({ status: 401, body: '{"code":"UNAUTHORIZED"}' })];
    const r = await runEntrypoint('echo ran');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/refused the pod token \(HTTP 401\)/);
    expect(r.stderr).not.toContain(TOKEN);
  });

  it('says the job or node is unknown on a 404 without retrying', async () => {
    answers = [() => ({ status: 404, body: '{}' })];
    seen.length = 0;
    const r = await runEntrypoint('echo ran');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/does not know the task warehouse-load of job revenue-daily .*HTTP 404/);
    expect(seen).toHaveLength(1);
  });

  it('retries on a server error and runs once the server answers', async () => {
    answers = [
      () => ({ status: 503, body: '{}' }),
      () => ({ status: 500, body: '{}' }),
      () => ({ status: 200, body: tarOf() }),
    ];
    seen.length = 0;
    const r = await runEntrypoint('echo "table=$TABLE"');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('table=acme.sales\n');
    expect(seen).toHaveLength(3);
    expect(r.stderr).toMatch(/failed \(HTTP 503\); retrying/);
  });

  it('gives up after its attempts when nothing listens', async () => {
    const r = await runEntrypoint('echo ran', {
      OPTIMUS_HOST: 'http://127.0.0.1:1',
      OPTIMUS_FETCH_ATTEMPTS: '2',
    });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(
      /cannot fetch the run input .* after 2 attempts \(no answer\)$/,
    );
  });

  it('refuses a missing variable and a name that would change the URL', async () => {
    const missing = await runEntrypoint('echo ran', { JOB_NAME: '' });
    expect(missing.stderr).toMatch(/JOB_NAME is not set/);
    const odd = await runEntrypoint('echo ran', { JOB_NAME: '../x' });
    expect(odd.stderr).toMatch(/JOB_NAME holds characters/);
  });
});
