/**
 * A wrapper image end to end on a real Docker engine (test/helpers/docker.ts finds or starts one;
 * without one the file says it was skipped, in one line): an executor image holding only busybox,
 * the base image built by scripts/build-base-image.sh and the wrapper by `optimus plugin image
 * --build`, all from local files, then `docker run --network host` of the wrapper against a real
 * `optimus serve` on 127.0.0.1, as an Airflow pod runs it.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOptimus } from '../helpers/cli.js';
import { buildTestImages, findDockerEngine, TEST_IMAGE } from '../helpers/docker.js';
import { type ServeProcess, startServe } from '../helpers/serve-process.js';

const engine = await findDockerEngine();
const skipped = 'skipped' in engine ? engine.skipped : undefined;
if (skipped) console.log(`wrapper image end-to-end tests skipped: ${skipped}`);
const host = 'host' in engine ? engine.host : '';

const BASE = 'optimus-test/base:e2e';
const READER = 'wrapper-e2e-reader-token-5b1e';
const APP_KEY = 'wrapper-e2e-app-key-0123456789abcdef0123';
const SECRET = "wh-secret-value-'q' $(id) 9d2c";
const SCHEDULED = '2026-03-01T02:00:00Z';
const SCRIPT_PATH = join(import.meta.dirname, '../../scripts/build-base-image.sh');

/** The plugin prints what it got; the secret is compared inside the container, never printed. */
const PLUGIN_SPEC = `version: 3
name: wrapped-echo
description: prints its input
plugin_versions:
  default:
    image: ${TEST_IMAGE.split(':')[0]}
    tag: "${TEST_IMAGE.split(':')[1]}"
    entrypoint:
      shell: /bin/sh
      script: |
        echo "asset: $(cat query.sql)"
        echo "table: $TABLE"
        if [ "$WH_TOKEN" = "$EXPECTED_SECRET" ]; then echo "secret ok"; else echo "secret wrong"; fi
        exit 3
configs:
  - {name: TABLE, description: target table, required: true}
  - {name: WH_TOKEN, description: warehouse credential, required: true, secret: true}
`;

let root = '';
let server: ServeProcess | undefined;
let wrapper = '';

function dockerRun(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      'docker',
      args,
      { env: { ...process.env, DOCKER_HOST: host }, timeout: 120_000 },
      (error, stdout, stderr) =>
        done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function api(method: string, path: string, body: unknown): Promise<void> {
  const r = await fetch(server!.url + path, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${READER}` },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
}

/** `docker run` of the wrapper as a DAG's pod: the environment POD_ENV names, host networking. */
function runPod(token: string) {
  const env = {
    OPTIMUS_HOST: server!.url,
    OPTIMUS_POD_TOKEN: token,
    PROJECT: 'wrap-p',
    JOB_NAME: 'wrapped-job',
    INSTANCE_TYPE: 'task',
    INSTANCE_NAME: 'wrapped-echo',
    SCHEDULED_AT: SCHEDULED,
    EXPECTED_SECRET: SECRET,
    OPTIMUS_FETCH_ATTEMPTS: '2',
    OPTIMUS_FETCH_BACKOFF: '1',
  };
  return dockerRun([
    'run',
    '--rm',
    '--network',
    'host',
    ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    wrapper,
  ]);
}

describe.skipIf(skipped !== undefined)('wrapper image on docker', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'optimus-wrapper-e2e-'));
    await buildTestImages(host);
    const base = await new Promise<string>((done, fail) =>
      execFile(SCRIPT_PATH, [BASE], { env: { ...process.env, DOCKER_HOST: host } }, (e, out, err) =>
        e ? fail(new Error(`build-base-image.sh: ${err}`)) : done(out.trim()),
      ),
    );
    expect(base).toBe(BASE);

    const plugins = join(root, 'plugins');
    mkdirSync(plugins);
    writeFileSync(join(plugins, 'wrapped-echo.yaml'), PLUGIN_SPEC);
    const built = runOptimus(
      [
        'plugin',
        'image',
        'wrapped-echo',
        ...['--plugins', plugins, '--base-image', BASE, '--registry', 'optimus-test'],
        ...['--output', join(root, 'contexts'), '--build', '--json'],
      ],
      { cwd: root, env: { DOCKER_HOST: host } },
    );
    if (built.code !== 0) throw new Error(`plugin image: ${built.stdout}${built.stderr}`);
    wrapper = built.json().images[0].image;
    expect(built.json().images[0]).toMatchObject({ built: true, plugin: 'wrapped-echo' });

    server = await startServe(
      join(root, 'data'),
      [],
      {},
      `serve:
  host: 127.0.0.1
  app_key: ${APP_KEY}
  auth:
    tokens:
      - {token: ${READER}, read_secrets: true}
plugins: {install_location: ${JSON.stringify(plugins)}}
scheduler: {base_image: ${BASE}, registry: optimus-test}
`,
    );
    await api('POST', '/api/v1beta1/project', { project: { name: 'wrap-p', config: {} } });
    await api('POST', '/api/v1beta1/project/wrap-p/namespace', { namespace: { name: 'ns' } });
    await api('POST', '/api/v1beta1/project/wrap-p/secret/WH', {
      value: Buffer.from(SECRET).toString('base64'),
    });
    await api('POST', '/api/v1beta1/project/wrap-p/namespace/ns/deploy', {
      jobs: [
        {
          version: 3,
          name: 'wrapped-job',
          owner: 'o@acme.example',
          schedule: { start_date: '2099-01-01', interval: '0 2 * * *' },
          task: {
            name: 'wrapped-echo',
            config: { TABLE: 'acme.sales', WH_TOKEN: '{{ .secret.WH }}' },
            window: { size: '1d', truncate_to: 'd' },
          },
          assets: { 'query.sql': 'select * from acme.raw where day = "{{ .DSTART | Date }}"' },
        },
      ],
    });
  }, 300_000);

  afterAll(async () => {
    if (server) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    if (wrapper) await dockerRun(['image', 'rm', '-f', wrapper]);
    if ('stop' in engine) await engine.stop();
    rmSync(root, { recursive: true, force: true });
  }, 120_000);

  it('shows the built wrapper image in the plugin as the server describes it', async () => {
    const r = await fetch(`${server!.url}/api/v1beta1/plugins/wrapped-echo`, {
      headers: { authorization: `Bearer ${READER}` },
    });
    const body = (await r.json()) as { plugin: { wrapper_image: string } };
    expect(body.plugin.wrapper_image).toBe(wrapper);
  });

  it('runs the plugin on its rendered input and secret, with its exit code, never printing the secret', async () => {
    const r = await runPod(READER);
    expect(r.stdout).toBe(
      'asset: select * from acme.raw where day = "2026-02-28"\ntable: acme.sales\nsecret ok\n',
    );
    expect(r.code).toBe(3);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stdout + r.stderr).not.toContain(READER);
  }, 120_000);

  it('runs with a pod token minted for exactly this node', async () => {
    const { mintPodToken, podTokenKey } = await import('../../src/services/pod-token.js');
    const { token } = mintPodToken(
      {
        project: 'wrap-p',
        job: 'wrapped-job',
        instanceType: 'task',
        instanceName: 'wrapped-echo',
        scheduledAt: SCHEDULED,
      },
      { key: podTokenKey(APP_KEY), now: new Date(), ttlMs: 10 * 60_000 },
    );
    const r = await runPod(token);
    expect(r.stdout).toContain('secret ok\n');
    expect(r.code).toBe(3);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stdout + r.stderr).not.toContain(token);
  }, 120_000);

  it('fails in one clear line when the server refuses the token', async () => {
    const r = await runPod('not-a-token-of-this-server');
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBe(3);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^optimus-entrypoint: the server at .* refused the pod token \(HTTP 40[13]\)/);
    expect(r.stderr).not.toContain('not-a-token-of-this-server');
  }, 120_000);
});
