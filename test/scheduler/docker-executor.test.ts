/**
 * The docker executor against a real engine (test/helpers/docker.ts finds or starts one). Where no
 * engine can run, the engine tests are skipped with one line saying why; the tests that need only
 * the docker CLI still run.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerExecutor, type DockerExecutorOptions } from '../../src/scheduler/docker-executor.js';
import type { AttemptResult, NodeAttempt } from '../../src/scheduler/executor.js';
import type { Json } from '../../src/store/store.js';
import {
  buildTestImages,
  docker,
  findDockerEngine,
  TEST_IMAGE,
  TEST_IMAGE_WITH_ENTRYPOINT,
} from '../helpers/docker.js';
import { leftInTmp, tempDir } from '../plugins/helpers.js';

const engine = await findDockerEngine();
const skipped = 'skipped' in engine ? engine.skipped : undefined;
if (skipped) console.log(`docker executor tests skipped: ${skipped}`);
const host = 'host' in engine ? engine.host : '';

type Started = {
  result: Promise<AttemptResult>;
  stdout(): string;
  stderr(): string;
  handles: Json[];
  /** Resolves once the node's output contains `text`. */
  printed(text: string): Promise<void>;
};

let runIds = 0;

/** A work directory laid out as the runner leaves it: the run input in `in/`. */
function workDir(files: Record<string, string> = {}): string {
  const dir = tempDir('optimus-docker-');
  mkdirSync(join(dir, 'in'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'in', name), text);
  return dir;
}

function start(
  attempt: Partial<NodeAttempt> & { script?: string },
  options: Partial<DockerExecutorOptions> = {},
): Started {
  const executor = createDockerExecutor({ host, network: 'none', pullPolicy: 'never', ...options });
  const out = { stdout: '', stderr: '' };
  const waiters: { text: string; resolve(): void }[] = [];
  const handles: Json[] = [];
  const { script, ...rest } = attempt;
  const result = executor.run({
    runId: ++runIds,
    node: 'transform',
    attempt: 1,
    image: TEST_IMAGE,
    entrypoint: script === undefined ? undefined : { shell: '/bin/sh', script },
    workDir: rest.workDir ?? workDir(),
    env: {},
    timeoutMs: 120_000,
    signal: new AbortController().signal,
    onOutput(stream, chunk) {
      out[stream] += chunk.toString('utf8');
      for (const w of waiters.filter((w) => (out.stdout + out.stderr).includes(w.text))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    },
    onHandle(handle) {
      handles.push(handle);
    },
    ...rest,
  });
  return {
    result,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    handles,
    printed: (text) =>
      (out.stdout + out.stderr).includes(text)
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ text, resolve })),
  };
}

/** Every container the engine still has, running or not, whose name starts with `optimus-`. */
async function leftoverContainers(): Promise<string[]> {
  const names = await docker(host, ['ps', '-a', '--format', '{{.Names}}', '--filter', 'name=optimus-']);
  return names.split('\n').filter(Boolean);
}

describe('docker executor without an engine', () => {
  it('fails the attempt with how to reach the engine when no engine answers', async () => {
    const dir = tempDir('optimus-docker-');
    const r = await start(
      { script: 'echo hi', workDir: dir },
      { host: `unix://${dir}/no-engine.sock`, pullPolicy: 'missing' },
    ).result;
    expect(r).toMatchObject({ succeeded: false, timedOut: false, cancelled: false });
    expect(r.error).toMatch(
      /^cannot reach the docker engine \(unix:\/\/.*no-engine\.sock: .*\): start dockerd or set scheduler\.docker\.host$/,
    );
  });

  it('says the engine is unreachable, not that the image is missing, when checking a local image', async () => {
    const dir = tempDir('optimus-docker-');
    const r = await start({ script: 'echo hi', workDir: dir }, { host: `unix://${dir}/no-engine.sock` })
      .result;
    expect(r.error).toMatch(/^cannot reach the docker engine/);
  });

  it('fails the attempt with how to install docker when the CLI is not there', async () => {
    const r = await start({ script: 'echo hi' }, { binary: '/nonexistent/docker' }).result;
    expect(r).toMatchObject({ succeeded: false, exitCode: null });
    expect(r.error).toBe(
      'the docker CLI (/nonexistent/docker) was not found: install docker, or use scheduler.executor: process',
    );
  });

  it('ignores clean-up handles that are not docker containers it named', async () => {
    const executor = createDockerExecutor({ binary: '/nonexistent/docker', network: 'none' });
    const handles: Json[] = [null, 'x', { kind: 'process', pid: 1 }, { kind: 'docker', container: 'my-db' }];
    for (const handle of handles) await expect(executor.cleanup(handle)).resolves.toBeUndefined();
  });
});

describe.skipIf(skipped !== undefined)('docker executor on a real engine', () => {
  beforeAll(async () => {
    await buildTestImages(host);
  }, 120_000);

  afterAll(async () => {
    if ('stop' in engine) await engine.stop();
  }, 60_000);

  it('runs the entrypoint in the image with the input at /data and the env, streaming both outputs', async () => {
    const dir = workDir({ 'query.sql': 'select 1\nfrom t\nwhere x\n' });
    const started = start({
      workDir: dir,
      node: 'load/report x',
      env: { NAME: 'report', MULTI: 'line one\nline two\n  indented "quoted" $HOME', EMPTY: '' },
      script: [
        'echo "dir=$JOB_DIR pwd=$(pwd)"',
        'wc -l < /data/in/query.sql',
        'printf "%s|" "$MULTI"; echo',
        'echo "name=$NAME empty=[$EMPTY]"',
        'echo "to stderr" >&2',
        'mkdir -p /data/out && echo written > /data/out/result.txt',
      ].join('\n'),
    });
    const r = await started.result;
    expect(r).toEqual({ exitCode: 0, succeeded: true, timedOut: false, cancelled: false });
    expect(started.stdout()).toBe(
      'dir=/data pwd=/data\n3\nline one\nline two\n  indented "quoted" $HOME|\nname=report empty=[]\n',
    );
    expect(started.stderr()).toBe('to stderr\n');
    // The container ran as the server's own user, so what it wrote is the server's to read and remove.
    expect(readFileSync(join(dir, 'out/result.txt'), 'utf8')).toBe('written\n');
    expect(statSync(join(dir, 'out/result.txt')).uid).toBe(process.getuid?.());
    expect(started.handles).toEqual([
      { kind: 'docker', container: expect.stringMatching(/^optimus-\d+-load_report_x-1-[0-9a-f]{6}$/) },
    ]);
    expect(await leftoverContainers()).not.toContain((started.handles[0] as { container: string }).container);
  });

  it('runs the exec form (args) as the entrypoint program with its arguments, no shell', async () => {
    const started = start({
      entrypoint: { shell: '/bin/sh', script: '', args: ['/bin/echo', '$JOB_DIR', 'two words'] },
    });
    const r = await started.result;
    expect(r).toEqual({ exitCode: 0, succeeded: true, timedOut: false, cancelled: false });
    expect(started.stdout()).toBe('$JOB_DIR two words\n');
  });

  it('never puts env values on the docker command line', async () => {
    const dir = tempDir('optimus-docker-');
    const argvFile = join(dir, 'argv');
    const wrapper = join(dir, 'docker-wrapper');
    writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$@" >> '${argvFile}'\nexec docker "$@"\n`);
    chmodSync(wrapper, 0o755);
    const started = start(
      {
        env: { WH_TOKEN: 's3cr3t-token-value', PATH: '/bin:/opt/s3cr3t-path' },
        script: 'echo "$WH_TOKEN $PATH"',
      },
      { binary: wrapper },
    );
    const r = await started.result;
    expect(r.succeeded).toBe(true);
    expect(started.stdout()).toBe('s3cr3t-token-value /bin:/opt/s3cr3t-path\n');
    const argv = readFileSync(argvFile, 'utf8');
    expect(argv).toContain('WH_TOKEN\n');
    expect(argv).not.toContain('s3cr3t');
  });

  it('passes variables the docker CLI reads itself and leaves no env file behind', async () => {
    let started: Started | undefined;
    const dir = workDir();
    const left = await leftInTmp(async () => {
      started = start({
        workDir: dir,
        env: { PATH: '/bin', DOCKER_HOST: 'not-the-engine', HOME: '/data' },
        script: 'echo "$PATH $DOCKER_HOST $HOME"',
      });
      await started.result;
    });
    expect(started?.stdout()).toBe('/bin not-the-engine /data\n');
    expect(left).toEqual([]);
  });

  it('refuses a multi-line value for a name the docker CLI reads itself', async () => {
    const r = await start({ env: { DOCKER_CONFIG: 'a\nb' }, script: 'true' }).result;
    expect(r).toMatchObject({ succeeded: false, exitCode: null });
    expect(r.error).toBe(
      'variable DOCKER_CONFIG has a multi-line value, and DOCKER_CONFIG is a name the docker CLI reads itself: rename the variable',
    );
  });

  it("reports the node's exit code as a failed attempt", async () => {
    const started = start({ script: 'echo partial; exit 3' });
    const r = await started.result;
    expect(r).toEqual({
      exitCode: 3,
      succeeded: false,
      timedOut: false,
      cancelled: false,
      error: 'exited with code 3',
    });
    expect(started.stdout()).toBe('partial\n');
  });

  it("reports 125 as the node's own exit code when docker did not fail", async () => {
    const r = await start({ script: 'echo "some problem" >&2; exit 125' }).result;
    expect(r).toMatchObject({ exitCode: 125, succeeded: false, error: 'exited with code 125' });
  });

  it("runs the image's own entrypoint when the plugin declares none", async () => {
    const dir = workDir({ 'query.sql': 'select 1' });
    const started = start({
      image: TEST_IMAGE_WITH_ENTRYPOINT,
      workDir: dir,
      env: { JOB_NAME: 'legacy-job' },
    });
    const r = await started.result;
    expect(r.succeeded).toBe(true);
    expect(started.stdout()).toBe('image entrypoint for legacy-job\nquery.sql\n');
  });

  it('kills the container when the attempt times out and leaves none behind', async () => {
    const started = start({ script: 'echo started; sleep 300', timeoutMs: 1500 });
    const r = await started.result;
    expect(r).toEqual({
      exitCode: null,
      succeeded: false,
      timedOut: true,
      cancelled: false,
      error: "timed out after 1500ms (behavior.timeout, or the server's scheduler.node_timeout)",
    });
    const { container } = started.handles[0] as { container: string };
    expect(await leftoverContainers()).not.toContain(container);
  });

  it('kills the container when the run is cancelled and leaves none behind', async () => {
    const abort = new AbortController();
    const started = start({ script: 'echo started; sleep 300', signal: abort.signal });
    await started.printed('started');
    abort.abort();
    const r = await started.result;
    expect(r).toEqual({
      exitCode: null,
      succeeded: false,
      timedOut: false,
      cancelled: true,
      error: 'cancelled',
    });
    const { container } = started.handles[0] as { container: string };
    expect(await leftoverContainers()).not.toContain(container);
  });

  it('leaves no container behind when cancelled while docker is still creating it', async () => {
    const abort = new AbortController();
    const started = start({
      script: 'echo started; sleep 300',
      signal: abort.signal,
      onHandle(handle) {
        started.handles.push(handle);
        abort.abort();
      },
    });
    const r = await started.result;
    expect(r).toMatchObject({ cancelled: true, succeeded: false, error: 'cancelled' });
    const { container } = started.handles[0] as { container: string };
    expect(await leftoverContainers()).not.toContain(container);
  });

  it('does not start a container for an attempt cancelled before it began', async () => {
    const abort = new AbortController();
    abort.abort();
    const started = start({ script: 'echo ran', signal: abort.signal });
    expect(await started.result).toMatchObject({ cancelled: true, succeeded: false });
    expect(started.handles).toEqual([]);
    expect(started.stdout()).toBe('');
  });

  it('fails at once with what to do when the image is not on the engine and pulls are off', async () => {
    const r = await start({ image: 'acme/x:1.0', script: 'true' }).result;
    expect(r).toMatchObject({ succeeded: false, timedOut: false, cancelled: false });
    expect(r.error).toMatch(
      /^image acme\/x:1\.0 is not available to the docker engine \(.+\): load or build it, or check the registry$/,
    );
  });

  it('fails with what to do when the image is missing and no registry answers', async () => {
    const r = await start({ image: 'acme/x:1.0', script: 'true' }, { pullPolicy: 'missing' }).result;
    expect(r).toMatchObject({ succeeded: false, exitCode: 125 });
    expect(r.error).toMatch(
      /^image acme\/x:1\.0 is not available to the docker engine \(.+\): load or build it, or check the registry$/,
    );
  });

  it('says the image lacks the shell when the entrypoint cannot start', async () => {
    const r = await start({ entrypoint: { shell: '/bin/bash', script: 'echo hi' } }).result;
    expect(r.succeeded).toBe(false);
    expect(r.error).toMatch(
      /^the container could not start its shell \/bin\/bash \(.*\/bin\/bash.*\): check the plugin's image and entrypoint$/,
    );
  });

  it('names a network the engine does not know', async () => {
    const r = await start({ script: 'true' }, { network: 'no-such-network' }).result;
    expect(r.succeeded).toBe(false);
    expect(r.error).toMatch(/^docker could not run the container: .*no-such-network/);
  });

  it('stops a container that an earlier server left running, from its handle', async () => {
    const started = start({ script: 'echo started; sleep 300' });
    await started.printed('started');
    const [handle] = started.handles;
    // A new executor, as after a restart: it knows the container only by the stored handle.
    await createDockerExecutor({ host, network: 'none' }).cleanup(handle as Json);
    const r = await started.result;
    expect(r.succeeded).toBe(false);
    expect(await leftoverContainers()).not.toContain((handle as { container: string }).container);
    // Cleaning up again, once the container is gone, is harmless.
    await expect(
      createDockerExecutor({ host, network: 'none' }).cleanup(handle as Json),
    ).resolves.toBeUndefined();
  });
});
