/**
 * `optimus job run-input` against a real `optimus serve`: it writes in/ as a container sees it, and
 * `sh` reads .env and .secret back verbatim, whatever quotes, newlines, `$` or backticks they hold.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOptimus } from '../helpers/cli.js';
import { type ServeProcess, startServe } from '../helpers/serve-process.js';
import { EXAMPLE_PLUGINS } from '../helpers/temp-project.js';

const READER = 'cli-reader-token-01';
const PLAIN = 'cli-plain-token-02';
const TRICKY_SECRET = `pa'ss"word $HOME \`id\` $(id)\nsecond line`;
/** Config values as a user writes them; the template engine trims only their ends. */
const VALUES = {
  QUOTES: `it's "quoted" and 'single'`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion sh must not perform
  DOLLARS: '$HOME ${PATH} $(echo no) $1',
  TICKS: '`echo no` and a \\ backslash',
  LINES: 'first\nsecond\n\nfourth',
  UNICODE: 'zürich → ✓',
};

/** The tools a minimal container has: busybox's sh, wget and tar (skipped where busybox is missing). */
const hasBusybox = spawnSync('busybox', ['true']).status === 0;
let root: string;
let server: ServeProcess;

async function call(method: string, path: string, body: unknown): Promise<void> {
  const r = await fetch(server.url + path, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${PLAIN}` },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
}

const cli = (args: string[], token: string) =>
  runOptimus(['job', 'run-input', ...args, '--project-name', 'cli-p', '--host', server.url], {
    cwd: root,
    env: { OPTIMUS_TOKEN: token },
  });
const task = (out: string) => [
  'tricky',
  '--scheduled-at',
  '2026-03-02T03:00:00Z',
  '--type',
  'task',
  '--name',
  'python-script',
  '--output-dir',
  join(root, out),
];

/** What `sh` sees after sourcing the files as upstream's entrypoint does. */
function sourced(dir: string, names: string[]): string[] {
  const script = `set -a; . ./in/.env; . ./in/.secret; set +a; for k in ${names.join(' ')}; do eval "printf '%s\\0' \\"\\$$k\\""; done`;
  const r = spawnSync('sh', ['-c', script], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split('\0').slice(0, -1);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'optimus-run-input-'));
  server = await startServe(
    join(root, 'data'),
    [],
    { OPTIMUS_LOG_LEVEL: 'info' },
    `serve:
  host: 127.0.0.1
  auth:
    tokens:
      - {token: ${READER}, read_secrets: true}
      - ${PLAIN}
plugins: {install_location: ${JSON.stringify(EXAMPLE_PLUGINS)}}
`,
  );
  await call('POST', '/api/v1beta1/project', { project: { name: 'cli-p', config: { BUCKET: 'gs://b' } } });
  await call('POST', '/api/v1beta1/project/cli-p/namespace', { namespace: { name: 'ns' } });
  await call('POST', '/api/v1beta1/project/cli-p/secret/TRICKY', {
    value: Buffer.from(TRICKY_SECRET).toString('base64'),
  });
  await call('POST', '/api/v1beta1/project/cli-p/namespace/ns/deploy', {
    jobs: [
      {
        version: 3,
        name: 'tricky',
        owner: 'o@acme.example',
        // Far in the future, so a runner in the server has nothing to run meanwhile.
        schedule: { start_date: '2099-01-01', interval: '0 3 * * *' },
        task: {
          name: 'python-script',
          config: { ENTRY: 'main.py', ...VALUES, PASSWORD: '{{ .secret.TRICKY }}' },
          window: { size: '1d', truncate_to: 'd' },
        },
        assets: {
          'main.py': 'print("{{ .DSTART | Date }}", "{{ .GLOBAL__BUCKET }}")',
          'sql/part.sql': 'select {{ .nothing }}',
        },
      },
    ],
  });
}, 90_000);

afterAll(async () => {
  if (server) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  rmSync(root, { recursive: true, force: true });
});

describe('optimus job run-input', () => {
  it('writes in/ that sh sources back verbatim, secrets included for a reading token', () => {
    const r = cli(task('full'), READER);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^wrote 2 files, in\/\.env \(\d+ variables\) and in\/\.secret \(1 variable\) to /,
    );
    const dir = join(root, 'full');
    expect(readFileSync(join(dir, 'in/main.py'), 'utf8')).toBe('print("2026-03-01", "gs://b")');
    expect(readFileSync(join(dir, 'in/sql/part.sql'), 'utf8')).toBe('select <no value>');
    expect(statSync(join(dir, 'in/.secret')).mode & 0o777).toBe(0o600);
    const names = [...Object.keys(VALUES), 'PASSWORD', 'DSTART', 'JOB_NAME', 'GLOBAL__BUCKET'];
    expect(sourced(dir, names)).toEqual([
      ...Object.values(VALUES),
      TRICKY_SECRET,
      '2026-03-01T00:00:00Z',
      'tricky',
      'gs://b',
    ]);
    // The "<no value>" is reported with where it came from.
    expect(r.stderr).toMatch(/warning sql\/part\.sql:1:\d+: .*<no value>/);
  });

  it('warns that secrets were withheld for a token without read_secrets, and writes an empty .secret', () => {
    const r = cli(task('plain'), PLAIN);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('the server withheld 1 secret (PASSWORD): in/.secret lacks them');
    expect(r.stderr).toContain('read_secrets');
    expect(readFileSync(join(root, 'plain/in/.secret'), 'utf8')).toBe('');
    expect(readFileSync(join(root, 'plain/in/.env'), 'utf8')).not.toContain('pa');
  });

  it('answers in JSON with what it wrote', () => {
    const r = cli([...task('json'), '--json'], PLAIN);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      ok: true,
      project: 'cli-p',
      job: 'tricky',
      instance_type: 'task',
      instance_name: 'python-script',
      output_dir: join(root, 'json'),
      written: ['in/main.py', 'in/sql/part.sql', 'in/.env', 'in/.secret'],
      secrets_withheld: ['PASSWORD'],
      warnings: [expect.stringContaining('sql/part.sql:1:')],
    });
  });

  it('fails with the server’s reason for a hook the job does not have', () => {
    const args = task('nohook');
    args.splice(3, 4, '--type', 'hook', '--name', 'page-oncall');
    const r = cli(args, READER);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: job "tricky" has no hook "page-oncall"\nhint: this job has no hooks\n');
  });

  it('refuses a scheduled time that is not RFC3339 before asking the server', () => {
    const args = task('badtime');
    args[2] = '2026-03-02 03:00';
    const r = cli(args, READER);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --scheduled-at "2026-03-02 03:00" is not an RFC3339 time');
  });

  it.skipIf(!hasBusybox)(
    'is fetched and unpacked with busybox wget and tar alone, as a wrapper image does',
    () => {
      const dir = join(root, 'busybox');
      mkdirSync(dir);
      const body = JSON.stringify({
        scheduled_at: '2026-03-02T03:00:00Z',
        instance_type: 'TYPE_TASK',
        instance_name: 'python-script',
      });
      const script = [
        `busybox wget -q -O - --header "Authorization: Bearer $TOKEN" --header 'Accept: application/x-tar'`,
        `--header 'Content-Type: application/json' --post-data "$BODY" "$URL" | busybox tar -x`,
        `&& set -a && . ./in/.env && . ./in/.secret && set +a && printf '%s\\0' "$PASSWORD" "$QUOTES" "$DSTART"`,
      ].join(' ');
      const r = spawnSync('busybox', ['sh', '-c', script], {
        cwd: dir,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          TOKEN: READER,
          BODY: body,
          URL: `${server.url}/api/v1beta1/project/cli-p/job/tricky/run_input`,
        },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.split('\0').slice(0, -1)).toEqual([
        TRICKY_SECRET,
        VALUES.QUOTES,
        '2026-03-01T00:00:00Z',
      ]);
      expect(readFileSync(join(dir, 'in/main.py'), 'utf8')).toBe('print("2026-03-01", "gs://b")');
    },
  );

  it('kept every secret value out of the server’s output', async () => {
    // spawnSync held this process's event loop: let it read what the server wrote meanwhile.
    for (let i = 0; i < 100 && !server.stdout().includes('/run_input'); i++)
      await new Promise((done) => setTimeout(done, 50));
    const logged = server.stdout() + server.stderr();
    expect(logged).toContain('/api/v1beta1/project/cli-p/job/tricky/run_input');
    expect(logged).not.toContain('pa\'ss"word');
    expect(logged).not.toContain('second line');
  });
});
