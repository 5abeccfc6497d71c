/**
 * `optimus plugin run`: the built CLI on plugin folders written here (a yaml spec, a sample job and
 * its assets), run with the process executor (and the docker executor when an engine answers).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runOptimus } from '../helpers/cli.js';
import { buildTestImages, findDockerEngine, TEST_IMAGE } from '../helpers/docker.js';
import { tempDir } from '../helpers/temp-project.js';

const SECRET = 'hunter2-very-secret';

/** A task plugin whose script shows what it got: configs, window, a secret (echoed!) and its asset. */
const PLUGIN = `version: 3
name: hello
description: says hello
plugin_versions:
  default:
    image: docker.io/acme/hello
    tag: 0.1.0
    entrypoint:
      shell: /bin/sh
      script: |
        echo "table=$TABLE window=$DSTART..$DEND job=$JOB_NAME wh=$GLOBAL__WAREHOUSE"
        echo "token=$TOKEN"
        echo "workdir=$JOB_DIR"
        cat "$JOB_DIR/in/query.sql"; echo
        echo "complaint with $TOKEN" >&2
        exit \${EXIT_WITH:-0}
questions:
  - name: TABLE
    prompt: the table to read
    regexp: ^[a-z_]+$
    validationerror: lower case letters and _ only
configs:
  - name: TOKEN
    secret: true
    required: true
  - name: EXIT_WITH
    default: "0"
`;

/** The script's last line, replaced by tests that need the entrypoint to do something else. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion in the plugin's script
const LAST_LINE = 'exit ${EXIT_WITH:-0}';

const JOB = `version: 3
name: sample-job
owner: me@example.com
schedule:
  start_date: "2026-03-01"
  interval: "0 0 * * *"
task:
  name: hello
  config:
    TABLE: orders
    TOKEN: "{{ .secret.API_TOKEN }}"
  window:
    size: 24h
hooks:
  - name: notify
  - name: audit
`;

/**
 * The start of the entrypoint's script for the stop tests: it starts a process in the background
 * (left running if only the shell were stopped) and says both pids.
 */
const BACKGROUND = 'echo "shell=$$"; sleep 60 & echo "sleeper=$!"; echo waiting';

function pids(stdout: string): { shell: number; sleeper: number } {
  const shell = Number(/^shell=(\d+)$/m.exec(stdout)?.[1]);
  const sleeper = Number(/^sleeper=(\d+)$/m.exec(stdout)?.[1]);
  expect(shell).toBeGreaterThan(1);
  expect(sleeper).toBeGreaterThan(1);
  return { shell, sleeper };
}

/** Running (not gone, not a zombie waiting to be reaped). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const QUERY = 'select * from orders\nwhere ts >= "{{ .DSTART }}" and ts < "{{ .DEND }}"\n';

function pluginDir(files: Record<string, string> = {}): string {
  return tempDir({
    'p/plugin.yaml': PLUGIN,
    'p/sample/job.yaml': JOB,
    'p/sample/assets/query.sql': QUERY,
    ...files,
  });
}

const run = (cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  runOptimus(['plugin', 'run', ...args], { cwd, env });

/** Nothing anywhere in what the command printed holds the secret. */
function expectNoSecret(r: { stdout: string; stderr: string }, secret = SECRET): void {
  expect(r.stdout).not.toContain(secret);
  expect(r.stderr).not.toContain(secret);
}

describe('optimus plugin run (process executor)', () => {
  it('prints the rendered input, streams the output and reports success', () => {
    const cwd = pluginDir();
    const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--global', 'WAREHOUSE=wh1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [input, rest] = r.stdout.split(/^── output .*──$/m) as [string, string];
    expect(input).toContain('plugin     hello (yaml, docker.io/acme/hello:0.1.0)');
    expect(input).toContain('job        sample-job (p/sample/job.yaml)');
    expect(input).toContain('node       task hello');
    expect(input).toContain('scheduled  2026-03-01T00:00:00Z');
    expect(input).toContain('window     2026-02-28T00:00:00Z .. 2026-03-01T00:00:00Z');
    // envs sorted, KEY=value
    const envs = input.split('\nenvs\n')[1]!.split('\nsecrets\n')[0]!.split('\n');
    expect(envs).toEqual([...envs].sort());
    expect(envs).toEqual(
      expect.arrayContaining([
        '  DSTART=2026-02-28T00:00:00Z',
        '  DEND=2026-03-01T00:00:00Z',
        '  JOB_NAME=sample-job',
        '  GLOBAL__WAREHOUSE=wh1',
        '  TABLE=orders',
        '  EXIT_WITH=0',
      ]),
    );
    expect(input).toContain('\nsecrets\n  TOKEN=****\n');
    expect(input).toContain('  in/query.sql (87 bytes)\n      select * from orders\n');
    expect(input).toContain('      where ts >= "2026-02-28T00:00:00Z" and ts < "2026-03-01T00:00:00Z"');
    // the hooks use plugins that are not loaded: said, not run
    expect(input).toContain('warning not run: hooks notify (notify), audit (audit)');

    expect(rest).toContain(
      'table=orders window=2026-02-28T00:00:00Z..2026-03-01T00:00:00Z job=sample-job wh=wh1',
    );
    expect(rest).toContain('\ntoken=****\n');
    expect(rest).toContain('[stderr] complaint with ****');
    expect(rest).toContain('select * from orders\nwhere ts >= "2026-02-28T00:00:00Z"');
    expect(rest).toMatch(/\n✓ succeeded in \d+ ms\n$|\n✓ succeeded in [\d.]+ s\n$/);
    expectNoSecret(r);
  });

  it('removes the temp work folder afterwards, and keeps --workdir', () => {
    const cwd = pluginDir();
    const tmp = join(cwd, 'tmp');
    mkdirSync(tmp);
    const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`], { TMPDIR: tmp });
    expect(r.code).toBe(0);
    const used = /^workdir=(.*)$/m.exec(r.stdout)![1]!;
    expect(used.startsWith(tmp)).toBe(true);
    expect(existsSync(used)).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);

    const kept = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--workdir', 'work']);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain(`workdir=${join(cwd, 'work')}\n`);
    expect(kept.stdout).toContain('the input is kept in work/in');
    expect(readFileSync(join(cwd, 'work/in/query.sql'), 'utf8')).toContain('2026-02-28T00:00:00Z');
    expect(readFileSync(join(cwd, 'work/in/.env'), 'utf8')).toContain("TABLE='orders'\n");
    // The work folder holds the secret for the entrypoint (in/.secret, mode 0600), as the server's does.
    expect(readFileSync(join(cwd, 'work/in/.secret'), 'utf8')).toBe(`TOKEN='${SECRET}'\n`);
    expectNoSecret(kept);

    // The in/ says it was written by a run: only such a folder is replaced.
    expect(readFileSync(join(cwd, 'work/in/.optimus-plugin-run'), 'utf8')).toContain('optimus plugin run');
    // Run again into the same folder: the in/ an earlier run wrote is replaced.
    writeFileSync(join(cwd, 'work/in/stale.txt'), 'from an earlier run');
    expect(run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--workdir', 'work']).code).toBe(0);
    expect(existsSync(join(cwd, 'work/in/stale.txt'))).toBe(false);
  });

  it('leaves alone an in/ folder of --workdir that no run wrote', () => {
    const cwd = pluginDir();
    mkdirSync(join(cwd, 'mine/in'), { recursive: true });
    writeFileSync(join(cwd, 'mine/in/notes.txt'), 'keep me');
    const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--workdir', 'mine']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('mine/in exists and was not written by `optimus plugin run`');
    expect(readFileSync(join(cwd, 'mine/in/notes.txt'), 'utf8')).toBe('keep me');
  });

  it('leaves alone an in/ of --workdir that holds only a .env (no marker of a run), before printing', () => {
    const cwd = pluginDir();
    mkdirSync(join(cwd, 'mine/in'), { recursive: true });
    writeFileSync(join(cwd, 'mine/in/.env'), 'DB_PASSWORD=mine\n');
    writeFileSync(join(cwd, 'mine/in/data.csv'), 'a,b\n');
    const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--workdir', 'mine']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'error: mine/in exists and was not written by `optimus plugin run`: it is left alone\n' +
        'hint: pass --workdir a new or empty folder, or one an earlier `plugin run` wrote\n',
    );
    expect(readdirSync(join(cwd, 'mine/in')).sort()).toEqual(['.env', 'data.csv']);
  });

  it('refuses a --workdir that is no folder with a usage error, before printing the input', () => {
    const cwd = pluginDir({ 'afile.txt': 'not a folder\n' });
    symlinkSync(join(cwd, 'nowhere'), join(cwd, 'dangling'));
    const cases: [string, string][] = [
      ['afile.txt', 'error: --workdir afile.txt: afile.txt is a file, not a folder\n'],
      ['afile.txt/sub', 'error: --workdir afile.txt/sub: afile.txt is a file, not a folder\n'],
      [
        'dangling/sub',
        'error: --workdir dangling/sub: dangling is a symbolic link to something that does not exist\n',
      ],
    ];
    for (const [workdir, message] of cases) {
      const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--workdir', workdir]);
      expect(r.code, workdir).toBe(2);
      expect(r.stdout, workdir).toBe('');
      const [first, second] = r.stderr.split('\n');
      expect(`${first}\n`, workdir).toBe(message);
      expect(second, workdir).toMatch(/^hint: /);
      expect(r.stderr).not.toContain('internal error');
    }
    expect(readFileSync(join(cwd, 'afile.txt'), 'utf8')).toBe('not a folder\n');
    const j = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--workdir', 'afile.txt', '--json']);
    expect(j.code).toBe(2);
    expect(j.json().error.code).toBe('WORKDIR_INVALID');
  });

  it.skipIf(!existsSync('/proc/self'))(
    'says a --workdir under /proc cannot be made (instead of looping in mkdir)',
    () => {
      const cwd = pluginDir();
      const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--workdir', '/proc/optimus-x/y']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error: --workdir /proc/optimus-x/y: cannot create /proc/optimus-x: ');
      expect(r.stderr).toContain('hint: pass --workdir a folder you can write to');
      expect(r.stderr).not.toContain('internal error');
    },
  );

  it('creates a missing --workdir and its missing parents', () => {
    const cwd = pluginDir();
    const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--workdir', 'a/b/c']);
    expect(r.code).toBe(0);
    expect(readdirSync(join(cwd, 'a/b/c/in')).sort()).toEqual([
      '.env',
      '.optimus-plugin-run',
      '.secret',
      'query.sql',
    ]);
  });

  it('fails with the exit code of the entrypoint', () => {
    const cwd = pluginDir();
    const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--set', 'EXIT_WITH=3']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('  EXIT_WITH=3\n');
    expect(r.stdout).toMatch(/\n✗ exited with code 3 after [\d.]+ m?s\n$/);
    expectNoSecret(r);
  });

  it('--set overrides a config and is checked like job validate checks the job', () => {
    const cwd = pluginDir();
    const ok = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--set', 'TABLE=users', '--render-only']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('  TABLE=users\n');

    const wrong = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--set', 'TABLE=Users']);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toContain(
      'error --set TABLE: config TABLE: "Users": lower case letters and _ only [CONFIG_INVALID]',
    );

    const plain = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--set', `TOKEN=${SECRET}`]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('--set TOKEN: config TOKEN is a secret and must be a reference');
    expect(plain.stderr).toContain('give its value with --secret TOKEN=<value>');
    expectNoSecret(plain);
  });

  it('refuses a bad --set key and warns about one the plugin does not declare', () => {
    const cwd = pluginDir();
    const bad = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--set', '1TABLE=x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: --set "1TABLE": the key is no variable name');
    const noEq = run(cwd, ['p', '--set', 'TABLE']);
    expect(noEq.code).toBe(2);
    expect(noEq.stderr).toContain('error: --set "TABLE" is not KEY=VALUE');

    const typo = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--set', 'TABEL=x', '--render-only']);
    expect(typo.code).toBe(0);
    expect(typo.stdout).toContain(
      'warning --set TABEL: plugin hello declares no config TABEL (did you mean TABLE?); it is passed on as written',
    );
    expect(typo.stdout).toContain('  TABEL=x\n');
  });

  it('one key rule for --set, --secret and --global: a variable name, never dropped without a word', () => {
    const cwd = pluginDir();
    const refused: [string[], string][] = [
      [['--set', '__proto__=x'], 'error: --set __proto__: __proto__ is a name the run input cannot hold'],
      [
        ['--secret', '__proto__=x'],
        'error: --secret __proto__: __proto__ is a name the run input cannot hold',
      ],
      [
        ['--global', '__proto__=x'],
        'error: --global __proto__: __proto__ is a name the run input cannot hold',
      ],
      [['--global', 'A B=1'], 'error: --global "A B": the key is no variable name'],
      [['--global', '1A=1'], 'error: --global "1A": the key is no variable name'],
      [['--secret', 'A-B=1'], 'error: --secret "A-B": the key is no variable name'],
      [['--global', '=1'], 'error: --global "=1" is not KEY=VALUE'],
    ];
    for (const [flags, message] of refused) {
      const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, ...flags, '--render-only']);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stdout, flags.join(' ')).toBe('');
      expect(r.stderr, flags.join(' ')).toContain(message);
    }

    // Names an object already has (toString, constructor) are keys like any other.
    const own = run(cwd, [
      'p',
      '--secret',
      `API_TOKEN=${SECRET}`,
      '--set',
      'toString=x',
      '--global',
      'constructor=c',
      '--render-only',
    ]);
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('  toString=x\n');
    expect(own.stdout).toContain('  GLOBAL__CONSTRUCTOR=c\n');
    expect(own.stdout).toContain('warning --set toString: plugin hello declares no config toString');
    // --secret K reads only a variable that is set, not a property every object has.
    const env = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--secret', 'toString']);
    expect(env.code).toBe(2);
    expect(env.stderr).toContain(
      'error: --secret toString reads the environment variable toString, which is not set',
    );
  });

  it('reads --secret K from the environment variable K', () => {
    const cwd = pluginDir();
    const r = run(cwd, ['p', '--secret', 'API_TOKEN'], { API_TOKEN: SECRET });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\ntoken=****\n');
    expectNoSecret(r);

    const missing = run(cwd, ['p', '--secret', 'API_TOKEN'], { API_TOKEN: undefined });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      'error: --secret API_TOKEN reads the environment variable API_TOKEN, which is not set\nhint: export API_TOKEN=<value> first, or pass --secret API_TOKEN=<value>\n',
    );
  });

  it('names a secret the job reads that was not given, and the flag to pass', () => {
    const cwd = pluginDir();
    const r = run(cwd, ['p']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'error: job p/sample/job.yaml: task.config.TOKEN uses secret API_TOKEN, which is not given\n' +
        'hint: pass --secret API_TOKEN=<value> (or --secret API_TOKEN to read $API_TOKEN)\n',
    );
  });

  it('masks a secret everywhere in --json, also when the script echoes it', () => {
    const cwd = pluginDir();
    const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--json', '--set', 'EXIT_WITH=4']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expectNoSecret(r);
    const j = r.json();
    expect(j).toMatchObject({
      ok: false,
      plugin: { name: 'hello', kind: 'yaml', image: 'docker.io/acme/hello:0.1.0' },
      job: { name: 'sample-job', file: 'p/sample/job.yaml' },
      node: { type: 'task', name: 'hello' },
      scheduled_at: '2026-03-01T00:00:00Z',
      window: { start: '2026-02-28T00:00:00Z', end: '2026-03-01T00:00:00Z', location: 'UTC' },
      secrets: { TOKEN: '****' },
      result: {
        exit_code: 4,
        succeeded: false,
        timed_out: false,
        error: 'exited with code 4',
      },
    });
    expect(j.envs).toMatchObject({ DSTART: '2026-02-28T00:00:00Z', TABLE: 'orders', EXIT_WITH: '4' });
    expect(j.envs.TOKEN).toBeUndefined();
    expect(j.files['query.sql']).toContain('where ts >= "2026-02-28T00:00:00Z"');
    expect(j.result.stdout).toContain('token=****\n');
    expect(j.result.stderr).toBe('complaint with ****\n');
    expect(typeof j.result.duration_ms).toBe('number');
    expect(j.warnings).toEqual([
      'not run: hooks notify (notify), audit (audit) (`plugin run` runs only the plugin under development)',
    ]);
  });

  it('--render-only prints the input and runs nothing', () => {
    const cwd = pluginDir();
    const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--render-only']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  in/query.sql (87 bytes)');
    expect(r.stdout).not.toContain('── output');
    expect(r.stdout).not.toContain('table=orders');

    const j = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--render-only', '--json']).json();
    expect(j.ok).toBe(true);
    expect(j.result).toBeNull();
    expect(j.secrets).toEqual({ TOKEN: '****' });
  });

  it('--scheduled-at moves the window; a bad time is a usage error', () => {
    const cwd = pluginDir();
    const r = run(cwd, [
      'p',
      '--secret',
      `API_TOKEN=${SECRET}`,
      '--scheduled-at',
      '2026-04-10T09:00:00+07:00',
      '--render-only',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const j = r.json();
    expect(j.scheduled_at).toBe('2026-04-10T02:00:00Z');
    // a 24h window ending at the scheduled time (no truncate_to)
    expect(j.window).toMatchObject({ start: '2026-04-09T02:00:00Z', end: '2026-04-10T02:00:00Z' });
    expect(j.envs.DSTART).toBe('2026-04-09T02:00:00Z');
    expect(j.files['query.sql']).toContain('ts < "2026-04-10T02:00:00Z"');

    const bad = run(cwd, ['p', '--scheduled-at', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--scheduled-at "yesterday" is not an RFC 3339 time');
  });

  it('stops the entrypoint at --timeout', () => {
    const cwd = pluginDir({
      'p/plugin.yaml': PLUGIN.replace(LAST_LINE, 'echo waiting; sleep 30'),
    });
    const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--timeout', '300ms']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('waiting\n');
    expect(r.stdout).toContain('✗ timed out after 300ms (--timeout)\n');
    const j = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--timeout', '300ms', '--json']).json();
    expect(j.result).toMatchObject({ succeeded: false, timed_out: true });

    const bad = run(cwd, ['p', '--timeout', '5 minutes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--timeout "5 minutes" is not a duration');
  });

  it('uses the job behavior.timeout when --timeout is not given', () => {
    const cwd = pluginDir({
      'p/plugin.yaml': PLUGIN.replace(LAST_LINE, 'sleep 30'),
      'p/sample/job.yaml': JOB.replace('task:\n', 'behavior:\n  timeout: 300ms\ntask:\n'),
    });
    const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "✗ timed out after 300ms (the job's behavior.timeout; raise it with --timeout)",
    );
  });

  it('stops the entrypoint on Ctrl-C', async () => {
    const cwd = pluginDir({
      'p/plugin.yaml': PLUGIN.replace(LAST_LINE, 'echo waiting; sleep 30'),
    });
    const child = spawn(process.execPath, [BIN, 'plugin', 'run', 'p', '--secret', `API_TOKEN=${SECRET}`], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((done) => {
      child.stdout.on('data', (d: Buffer) => {
        const before = stdout;
        stdout += d.toString();
        if (!before.includes('waiting\n') && stdout.includes('waiting\n')) child.kill('SIGINT');
      });
      child.on('close', done);
    });
    expect(code).toBe(1);
    expect(stderr).toContain('stopping the entrypoint');
    expect(stdout).toMatch(/\n✗ cancelled after [\d.]+ m?s\n$/);
  });

  it.each(['SIGHUP', 'SIGQUIT'] as const)(
    'stops the entrypoint and removes the temp work folder on %s (a closed terminal)',
    async (signal) => {
      const cwd = pluginDir({ 'p/plugin.yaml': PLUGIN.replace(LAST_LINE, () => `${BACKGROUND}; wait`) });
      const tmp = join(cwd, 'tmp');
      mkdirSync(tmp);
      const child = spawn(process.execPath, [BIN, 'plugin', 'run', 'p', '--secret', `API_TOKEN=${SECRET}`], {
        cwd,
        env: { ...process.env, NO_COLOR: '1', TMPDIR: tmp },
      });
      let stdout = '';
      const code = await new Promise<number | null>((done) => {
        child.stdout.on('data', (d: Buffer) => {
          const before = stdout;
          stdout += d.toString();
          if (!before.includes('waiting\n') && stdout.includes('waiting\n')) child.kill(signal);
        });
        child.on('close', done);
      });
      expect(code).toBe(1);
      expect(stdout).toMatch(/\n✗ cancelled after [\d.]+ m?s\n$/);
      const { shell, sleeper } = pids(stdout);
      expect(alive(shell)).toBe(false);
      expect(alive(sleeper)).toBe(false);
      // in/.secret held the secret: nothing of the work folder is left.
      expect(readdirSync(tmp)).toEqual([]);
    },
  );

  it('stops the entrypoint and removes the temp work folder when the reader of its output goes away', () => {
    const cwd = pluginDir({
      'p/plugin.yaml': PLUGIN.replace(
        LAST_LINE,
        () => `${BACKGROUND}; while :; do echo tick; sleep 0.1; done`,
      ),
    });
    const tmp = join(cwd, 'tmp');
    mkdirSync(tmp);
    // The reader passes lines on until `waiting`, then quits: the CLI's next write finds the pipe
    // closed. The shell waits for every command of the pipeline, the CLI too.
    const r = spawnSync(
      'sh',
      [
        '-c',
        `"$NODE" "$BIN" plugin run p --secret API_TOKEN=${SECRET} | { while IFS= read -r l; do echo "$l"; [ "$l" = waiting ] && exit 0; done; }`,
      ],
      {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', TMPDIR: tmp, NODE: process.execPath, BIN },
      },
    );
    expect(r.status).toBe(0);
    const { shell, sleeper } = pids(r.stdout);
    expect(alive(shell)).toBe(false);
    expect(alive(sleeper)).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('runs a hook with --hook, with TASK__* from the task', () => {
    const cwd = tempDir({
      'h/plugin.yaml': `version: 3
name: notify
plugin_versions:
  default:
    image: docker.io/acme/notify
    tag: "1"
    entrypoint: {script: 'echo "notify $CHANNEL about $TASK__TABLE"'}
configs:
  - {name: CHANNEL, default: general}
`,
      'h/sample/job.yaml': JOB,
      'h/sample/assets/query.sql': QUERY,
    });
    const noHook = run(cwd, ['h']);
    expect(noHook.code).toBe(2);
    expect(noHook.stderr).toContain(
      'error: the task of job h/sample/job.yaml uses plugin hello, not notify: `plugin run` runs only the plugin under development\nhint: its hook notify uses notify: pass --hook notify',
    );
    const other = run(cwd, ['h', '--hook', 'audit']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(
      'error: hook audit of job h/sample/job.yaml uses plugin audit, not notify',
    );
    const none = run(cwd, ['h', '--hook', 'nope']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      'error: job h/sample/job.yaml has no hook "nope"\nhint: hooks of this job: notify, audit',
    );

    const r = run(cwd, ['h', '--hook', 'notify', '--secret', `API_TOKEN=${SECRET}`, '--set', 'CHANNEL=data']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('node       hook notify');
    expect(r.stdout).toContain('  TASK__TABLE=orders\n');
    expect(r.stdout).toContain('  CHANNEL=data\n');
    expect(r.stdout).toContain("the job's task uses plugin hello, which `plugin run` does not load");
    expect(r.stdout).toContain('\nnotify data about orders\n');
    expect(r.stdout).toContain('TASK__TOKEN=****');
    expectNoSecret(r);
  });

  it('--plugins: a hook gets the real task plugin, its defaults in TASK__* and its JOB_DESTINATION', () => {
    const notify = `version: 3
name: notify
plugin_versions:
  default:
    image: docker.io/acme/notify
    tag: "1"
    entrypoint: {script: 'echo "notify $CHANNEL: $TASK__TABLE exit=$TASK__EXIT_WITH dest=$JOB_DESTINATION"'}
configs:
  - {name: CHANNEL, default: general}
`;
    const cwd = tempDir({
      'h/plugin.yaml': notify,
      'h/sample/job.yaml': JOB,
      'h/sample/assets/query.sql': QUERY,
      // The task's plugin as installed: with a destination template, so JOB_DESTINATION shows it is used.
      'specs/hello.yaml': `${PLUGIN}destination_urn_template: bigquery://acme:ds.<TABLE>\n`,
      'specs/audit.yaml': PLUGIN.replace('name: hello', 'name: audit'),
      'others/audit.yaml': PLUGIN.replace('name: hello', 'name: audit'),
    });
    const args = ['h', '--hook', 'notify', '--secret', `API_TOKEN=${SECRET}`];

    const stoodIn = run(cwd, [...args, '--json']);
    expect(stoodIn.code).toBe(0);
    expect(stoodIn.json().envs).toMatchObject({ TASK__TABLE: 'orders', JOB_DESTINATION: '' });
    expect(stoodIn.json().envs.TASK__EXIT_WITH).toBeUndefined();
    expect(stoodIn.json().result.stdout).toBe('notify general: orders exit= dest=\n');
    expect(stoodIn.json().warnings[0]).toBe(
      "the job's task uses plugin hello, which `plugin run` does not load (it runs only the plugin under development): TASK__* hold the task's config as written, without hello's defaults, and JOB_DESTINATION is empty; pass --plugins <dir> with its spec to get them",
    );

    const real = run(cwd, [...args, '--plugins', 'specs', '--json']);
    expect(real.stderr).toBe('');
    expect(real.code).toBe(0);
    const j = real.json();
    expect(j.envs).toMatchObject({
      TASK__TABLE: 'orders',
      TASK__EXIT_WITH: '0',
      JOB_DESTINATION: 'bigquery://acme:ds.orders',
    });
    expect(j.result.stdout).toBe('notify general: orders exit=0 dest=bigquery://acme:ds.orders\n');
    expect(j.warnings.join('\n')).not.toContain("the job's task uses plugin hello");
    expectNoSecret(real);

    // A folder of specs without the task's plugin: still a stand-in, and the note says where it looked.
    const missing = run(cwd, [...args, '--plugins', 'others']);
    expect(missing.code).toBe(0);
    expect(missing.stdout).toContain(
      "warning the job's task uses plugin hello, which is not in --plugins others: TASK__* hold the task's config as written",
    );
    expect(missing.stdout).toContain('  JOB_DESTINATION=\n');
  });

  it('--plugins with a broken spec or no such folder is bad usage naming the file and line', () => {
    const cwd = pluginDir({
      'specs/good.yaml': PLUGIN.replace('name: hello', 'name: audit'),
      'specs/broken.yaml': PLUGIN.replace('name: hello', 'name: notify').replace('configs:', 'configz:'),
    });
    const line = PLUGIN.split('\n').indexOf('configs:') + 1;
    const r = run(cwd, ['p', '--plugins', 'specs', '--secret', `API_TOKEN=${SECRET}`]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `error: --plugins specs: specs/broken.yaml:${line}:1: configz: unknown key "configz"\nhint: check its spelling; fix the spec, or leave it out of the folder (\`optimus plugin validate <file>\` lists every problem)\n`,
    );
    const j = run(cwd, ['p', '--plugins', 'specs', '--json']);
    expect(j.code).toBe(2);
    expect(j.json().error).toMatchObject({ code: 'PLUGINS_DIR_INVALID' });
    expect(j.json().error.message).toContain(`specs/broken.yaml:${line}:1`);

    const none = run(cwd, ['p', '--plugins', 'nowhere']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('error: --plugins nowhere: nowhere: ');
    expect(none.stderr).toContain('hint: pass --plugins a folder of plugin specs');
  });

  it('masks a secret an asset reads, and cuts long files in the listing', () => {
    const long = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join('\n');
    const cwd = pluginDir({
      'p/sample/assets/creds.txt': 'token: {{ .secret.API_TOKEN }}\n',
      'p/sample/assets/long.txt': `${long}\n`,
      'p/plugin.yaml': PLUGIN.replace(LAST_LINE, 'cat "$JOB_DIR/in/creds.txt"; echo'),
    });
    const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  in/creds.txt (26 bytes)\n      token: ****\n');
    expect(r.stdout).toContain(
      '      line 40\n      … 10 more lines (the whole file is in/long.txt of --workdir)\n',
    );
    expect(r.stdout).not.toContain('line 41');
    expect(r.stdout).toContain('\ntoken: ****\n');
    expectNoSecret(r);
    const j = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--json']);
    expect(j.json().files['creds.txt']).toBe('token: ****');
    expectNoSecret(j);
  });

  it('lists a binary file by its size, escapes control characters and cuts long lines', () => {
    const cwd = pluginDir({
      'p/sample/assets/esc.txt': 'red \x1b[31mRED\x1b[0m\tTab\rCR\x07bell\n',
      'p/sample/assets/oneline.txt': 'a'.repeat(10_000),
      'p/plugin.yaml': PLUGIN.replace(LAST_LINE, 'wc -c < "$JOB_DIR/in/oneline.txt"'),
    });
    writeFileSync(
      join(cwd, 'p/sample/assets/logo.png'),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 0xff]),
    );
    writeFileSync(join(cwd, 'p/sample/assets/latin1.txt'), Buffer.from('caf\xe9\n', 'latin1'));
    const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`, '--set', 'NOTE=x\x1b]0;title\x07y']);
    expect(r.code).toBe(0);
    // No byte that would move the cursor or change the terminal's state.
    expect(r.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(r.stdout).toMatch(/\n {2}in\/logo\.png \(binary, \d+ bytes, not shown\)\n {2}in\/oneline\.txt/);
    expect(r.stdout).toMatch(/\n {2}in\/latin1\.txt \(binary, \d+ bytes, not shown\)\n/);
    expect(r.stdout).toContain(
      '  in/esc.txt (28 bytes)\n      red \\x1b[31mRED\\x1b[0m\tTab\\rCR\\x07bell\n',
    );
    expect(r.stdout).toContain(
      `  in/oneline.txt (10000 bytes)\n      ${'a'.repeat(300)}… (9700 more characters)\n`,
    );
    expect(r.stdout).toContain('  NOTE=x\\x1b]0;title\\x07y\n');
    // The entrypoint gets the file whole.
    expect(r.stdout).toMatch(/\n\s*10000\n/);
  });

  it('keeps at most 1 MB of each stream in --json, saying how much was cut', () => {
    const cwd = pluginDir({
      'p/plugin.yaml': PLUGIN.replace(LAST_LINE, "head -c 1500000 /dev/zero | tr '\\\\0' x | fold -w 99"),
    });
    // More than runOptimus's 1 MB buffer: read it all here.
    const r = spawnSync(
      process.execPath,
      [BIN, 'plugin', 'run', 'p', '--secret', `API_TOKEN=${SECRET}`, '--json'],
      {
        cwd,
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    const out: string = j.result.stdout;
    expect(Buffer.byteLength(out)).toBeLessThan(1024 * 1024 + 200);
    expect(out).toMatch(
      /\n… \d+ more bytes cut \(each stream is kept up to 1 MB here; run without --json to see it all\)\n$/,
    );
    const cut = Number(/… (\d+) more bytes cut/.exec(out)![1]);
    // 1,500,000 x's in lines of 99 (+ newline), plus the script's own lines: all of it is kept or counted
    expect(Buffer.byteLength(out.slice(0, out.lastIndexOf('…'))) + cut).toBeGreaterThan(1_515_000);
    expect(j.result.stderr).toBe('complaint with ****\n');
  });

  it('builds and runs a binary plugin project, and lists a failed handshake', () => {
    const main = `import { servePlugin } from '@optimus-ts/plugin-sdk';
servePlugin({
  spec: {
    version: 3,
    name: 'binhello',
    plugin_versions: {
      default: {
        image: 'docker.io/acme/binhello',
        tag: '0.1.0',
        entrypoint: { shell: '/bin/sh', script: 'echo "bin says $TABLE"; cat "$JOB_DIR/in/query.sql"' },
      },
    },
    configs: [{ name: 'TABLE', required: true }],
  },
});
`;
    const job = `version: 3
name: bjob
owner: me@example.com
schedule: {start_date: "2026-03-01", interval: "@daily"}
task:
  name: binhello
  config: {TABLE: t1}
`;
    const cwd = tempDir({
      'b/package.json': '{"name": "binhello", "version": "0.1.0", "private": true, "type": "module"}',
      'b/src/main.ts': main,
      'b/sample/job.yaml': job,
      'b/sample/assets/query.sql': 'select "{{ .DSTART }}"\n',
      'crash/package.json': '{"name": "binhello", "version": "0.1.0", "private": true, "type": "module"}',
      'crash/src/main.ts': "throw new Error('broken at start');\n",
      'crash/sample/job.yaml': job,
    });
    const r = run(cwd, ['b']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^built b\/dist\/binhello \(\d+ bytes\) in \d+ ms\n$/);
    expect(r.stdout).toContain('plugin     binhello (binary, docker.io/acme/binhello:0.1.0)');
    expect(r.stdout).toContain('\nbin says t1\nselect "2026-02-28T00:00:00Z"\n');
    expect(existsSync(join(cwd, 'b/dist/binhello'))).toBe(true);
    const noBuild = run(cwd, ['b', '--no-build', '--render-only']);
    expect(noBuild.code).toBe(0);
    expect(noBuild.stderr).toBe('');

    const crash = run(cwd, ['crash', '--json']);
    expect(crash.code).toBe(1);
    expect(crash.json()).toMatchObject({
      ok: false,
      error: { message: 'plugin binhello cannot be loaded' },
      problems: [{ severity: 'error', file: 'crash/dist/binhello' }],
    });
    expect(crash.json().problems[0].message).toContain('exited (code 1) before answering');
  });

  it('names the job file and field of a render error', () => {
    const cwd = pluginDir({
      'p/sample/job.yaml': JOB.replace('TABLE: orders', 'TABLE: "{{ .DSTART | nofunc }}"'),
    });
    const r = run(cwd, ['p', '--secret', `API_TOKEN=${SECRET}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'error: job p/sample/job.yaml: field task.config.TABLE: template task.config.TABLE:1:14: function "nofunc" not defined\n' +
        'hint: fix the template syntax at the position shown (Go text/template syntax)\n',
    );
  });

  it('lists the problems of a broken spec or job with file:line', () => {
    const spec = pluginDir({ 'p/plugin.yaml': PLUGIN.replace('    tag: 0.1.0\n', '    tag: [0]\n') });
    const r = run(spec, ['p']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: plugin hello cannot be loaded\np\/plugin\.yaml:\d+:\d+ /);

    const job = pluginDir({ 'p/sample/job.yaml': JOB.replace('owner: me@example.com\n', '') });
    const j = run(job, ['p', '--json']);
    expect(j.code).toBe(1);
    expect(j.json()).toMatchObject({
      ok: false,
      problems: [{ severity: 'error', code: 'JOB_FIELD_MISSING', file: 'p/sample/job.yaml' }],
    });
  });

  it('needs --job for a bare spec file without a sample beside it', () => {
    const cwd = tempDir({
      'specs/hello.yaml': PLUGIN,
      'jobs/one/job.yaml': JOB,
      'jobs/one/assets/query.sql': QUERY,
    });
    const r = run(cwd, ['specs/hello.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'error: specs/hello.yaml is a plugin spec file with no sample/job.yaml beside it: --job is required',
    );
    const ok = run(cwd, [
      'specs/hello.yaml',
      '--job',
      'jobs/one/job.yaml',
      '--secret',
      `API_TOKEN=${SECRET}`,
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('job        sample-job (jobs/one/job.yaml)');
    expect(ok.stdout).toContain('table=orders');
  });

  it('refuses docker-only flags with the process executor', () => {
    const cwd = pluginDir();
    const r = run(cwd, ['p', '--image', TEST_IMAGE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --image applies to the docker executor');
    const n = run(cwd, ['p', '--network', 'host']);
    expect(n.code).toBe(2);
    expect(n.stderr).toContain('error: --network applies to the docker executor');
  });
});

describe('optimus plugin run --executor docker, without docker', () => {
  it('says how to get docker when the CLI is not installed', () => {
    const cwd = pluginDir();
    const empty = join(cwd, 'empty-path');
    mkdirSync(empty);
    const r = run(cwd, ['p', '--executor', 'docker', '--secret', `API_TOKEN=${SECRET}`], { PATH: empty });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '── output (docker executor, docker.io/acme/hello:0.1.0, network none, timeout 10 min) ──',
    );
    expect(r.stdout).toMatch(
      /\n✗ the docker CLI \(docker\) was not found: install docker, or use --executor process \(after [\d.]+ m?s\)\n$/,
    );
  });

  it.skipIf(spawnSync('sh', ['-c', 'command -v docker']).status !== 0)(
    'says the engine cannot be reached, and how to point at one',
    () => {
      const cwd = pluginDir();
      const r = run(
        cwd,
        ['p', '--executor', 'docker', '--image', TEST_IMAGE, '--secret', `API_TOKEN=${SECRET}`],
        {
          DOCKER_HOST: `unix://${join(cwd, 'no-engine.sock')}`,
        },
      );
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        /\n✗ cannot reach the docker engine \(unix:.*\): start dockerd or set DOCKER_HOST \(after/,
      );
    },
  );
});

const engine = await findDockerEngine();
const skipped = 'skipped' in engine ? engine.skipped : undefined;
if (skipped) console.log(`plugin run docker tests skipped: ${skipped}`);
const host = 'host' in engine ? engine.host : '';

describe.skipIf(skipped !== undefined)('optimus plugin run --executor docker', () => {
  beforeAll(async () => {
    await buildTestImages(host);
  }, 120_000);
  afterAll(async () => {
    if ('stop' in engine) await engine.stop();
  }, 60_000);

  it('runs the entrypoint in the image with the input at /data/in, output masked', () => {
    const cwd = pluginDir();
    const r = run(
      cwd,
      [
        'p',
        '--executor',
        'docker',
        '--image',
        TEST_IMAGE,
        '--secret',
        `API_TOKEN=${SECRET}`,
        '--set',
        'EXIT_WITH=5',
      ],
      { DOCKER_HOST: host },
    );
    expect(r.stdout).toContain(`plugin     hello (yaml, ${TEST_IMAGE})`);
    expect(r.stdout).toContain(`── output (docker executor, ${TEST_IMAGE}, network none, timeout 10 min) ──`);
    expect(r.stdout).toContain(
      'table=orders window=2026-02-28T00:00:00Z..2026-03-01T00:00:00Z job=sample-job',
    );
    expect(r.stdout).toContain('\ntoken=****\n');
    expect(r.stdout).toContain('where ts >= "2026-02-28T00:00:00Z"');
    expect(r.stdout).toContain('workdir=/data\n');
    expect(r.stdout).toMatch(/\n✗ exited with code 5 after [\d.]+ m?s\n$/);
    expect(r.code).toBe(1);
    expectNoSecret(r);
  });
});
