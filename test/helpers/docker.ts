/**
 * A docker engine for tests: $DOCKER_HOST when it answers, else /var/run/docker.sock when it
 * answers, else (as root) a throwaway dockerd in a temp dir with its own sockets, no bridge and no
 * iptables, stopped by `stop()`. No registry is reachable here, so test images are built from local
 * files: `docker import` of a tar holding Debian's static busybox and its applet links.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create as createTar } from 'tar';

export type DockerEngine = { host: string; stop(): Promise<void> };
export type SkippedDocker = { skipped: string };

/** `:2` since awk was added (an engine keeping a `:1` image gets the new one built). */
export const TEST_IMAGE = 'optimus-test/busybox:2';
/** The same filesystem with an ENTRYPOINT of its own, for plugins that declare none (legacy v1). */
export const TEST_IMAGE_WITH_ENTRYPOINT = 'optimus-test/busybox-entrypoint:2';
export const TEST_IMAGE_ENTRYPOINT_SCRIPT = 'echo "image entrypoint for $JOB_NAME"; ls /data/in';

const APPLETS = [
  'sh',
  'awk',
  'echo',
  'cat',
  'wc',
  'sleep',
  'env',
  'ls',
  'id',
  'printf',
  'test',
  'true',
  'false',
  'head',
  'touch',
  'mkdir',
  'rm',
];
const BUSYBOX = '/bin/busybox';

function dockerCli(
  host: string,
  args: string[],
  timeout = 30_000,
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      'docker',
      args,
      { env: { ...process.env, DOCKER_HOST: host }, timeout },
      (error, stdout, stderr) => done({ ok: !error, stdout, stderr: stderr || (error?.message ?? '') }),
    );
  });
}

/** Runs `docker …` against `host`, failing the test with docker's message. */
export async function docker(host: string, args: string[]): Promise<string> {
  const r = await dockerCli(host, args);
  if (!r.ok) throw new Error(`docker ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

async function answers(host: string): Promise<boolean> {
  return (await dockerCli(host, ['version', '--format', '{{.Server.Version}}'], 10_000)).ok;
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

export async function findDockerEngine(): Promise<DockerEngine | SkippedDocker> {
  if (!hasCommand('docker')) return { skipped: 'no docker CLI (apt-get install docker.io)' };
  const keep = { host: '', stop: async () => undefined };
  const fromEnv = process.env.DOCKER_HOST;
  if (fromEnv && (await answers(fromEnv))) return { ...keep, host: fromEnv };
  const system = 'unix:///var/run/docker.sock';
  if (existsSync('/var/run/docker.sock') && (await answers(system))) return { ...keep, host: system };

  const tried = fromEnv ? `DOCKER_HOST=${fromEnv} does not answer; ` : '';
  if (process.getuid?.() !== 0)
    return { skipped: `${tried}no engine answers and starting dockerd needs root` };
  if (!hasCommand('dockerd'))
    return { skipped: `${tried}no engine answers and there is no dockerd (apt-get install docker.io)` };
  return startDockerd(tried);
}

async function startDockerd(tried: string): Promise<DockerEngine | SkippedDocker> {
  // A short path: the engine's unix sockets must fit in 108 bytes.
  const dir = mkdtempSync(join(tmpdir(), 'optimus-dkr-'));
  const host = `unix://${dir}/docker.sock`;
  const logFile = join(dir, 'dockerd.log');
  const log = openSync(logFile, 'a');
  const daemon = spawn(
    'dockerd',
    [
      `--host=${host}`,
      `--data-root=${dir}/data`,
      `--exec-root=${dir}/exec`,
      `--pidfile=${dir}/dockerd.pid`,
      '--bridge=none',
      '--iptables=false',
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  let exited = false;
  daemon.once('exit', () => {
    exited = true;
  });
  daemon.once('error', () => {
    exited = true;
  });
  const stopNow = () => {
    // dockerd stops its containers and its containerd on SIGTERM; wait for that before removing
    // the directory its mounts live in.
    if (!exited && daemon.pid) {
      spawnSync('sh', [
        '-c',
        `kill ${daemon.pid} 2>/dev/null; for i in $(seq 1 200); do kill -0 ${daemon.pid} 2>/dev/null || exit 0; sleep 0.1; done; kill -9 ${daemon.pid}`,
      ]);
    }
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  // A test run that dies without calling stop() must not leave an engine behind.
  process.once('exit', stopNow);

  for (let i = 0; i < 120 && !exited; i++) {
    if (await answers(host)) {
      let stopped = false;
      return {
        host,
        async stop() {
          if (stopped) return;
          stopped = true;
          process.off('exit', stopNow);
          if (!exited) {
            const gone = new Promise((r) => daemon.once('exit', r));
            daemon.kill('SIGTERM');
            const timer = setTimeout(() => daemon.kill('SIGKILL'), 20_000);
            await gone;
            clearTimeout(timer);
          }
          unmountUnder(dir);
          rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
        },
      };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const last = existsSync(logFile)
    ? (readFileSync(logFile, 'utf8')
        .trim()
        .split('\n')
        .filter((l) => /level=(error|fatal)|failed/i.test(l))
        .at(-1) ?? '')
    : '';
  process.off('exit', stopNow);
  stopNow();
  return {
    skipped: `${tried}no engine answers and a throwaway dockerd did not start: ${last.slice(0, 300) || 'no answer'}`,
  };
}

/**
 * A container run with `--network host` leaves dockerd's netns/default bind mount behind when the
 * engine stops; the temp dir can only be removed once it is unmounted.
 */
function unmountUnder(dir: string): void {
  let mounts = '';
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return;
  }
  for (const line of mounts.split('\n')) {
    const target = line.split(' ')[1];
    if (target?.startsWith(`${dir}/`)) spawnSync('umount', ['-l', target]);
  }
}

/** `docker import`s the busybox image (and its entrypoint twin) unless the engine has them. */
export async function buildTestImages(host: string): Promise<void> {
  const have = async (tag: string) => (await dockerCli(host, ['image', 'inspect', tag])).ok;
  if ((await have(TEST_IMAGE)) && (await have(TEST_IMAGE_WITH_ENTRYPOINT))) return;
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: apt-get install busybox-static`);
  if (/=>\s*\//.test(spawnSync('ldd', [BUSYBOX], { encoding: 'utf8' }).stdout ?? ''))
    throw new Error(
      `${BUSYBOX} is dynamically linked and cannot run in an empty image: apt-get install busybox-static`,
    );

  const dir = mkdtempSync(join(tmpdir(), 'optimus-busybox-'));
  try {
    const root = join(dir, 'root');
    for (const sub of ['bin', 'tmp', 'data']) mkdirSync(join(root, sub), { recursive: true });
    copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
    for (const applet of APPLETS) symlinkSync('busybox', join(root, 'bin', applet));
    const file = join(dir, 'rootfs.tar');
    await createTar({ file, cwd: root, portable: true }, ['bin', 'tmp', 'data']);
    await docker(host, ['import', file, TEST_IMAGE]);
    await docker(host, [
      'import',
      '--change',
      `ENTRYPOINT ${JSON.stringify(['/bin/sh', '-c', TEST_IMAGE_ENTRYPOINT_SCRIPT])}`,
      file,
      TEST_IMAGE_WITH_ENTRYPOINT,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
