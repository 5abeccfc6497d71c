import pc from 'picocolors';
import { OptimusError } from '../../../core/errors.js';
import type { PluginsSection } from '../../../plugins/install/config.js';
import { cachedSection, readConfigBytes } from '../../../plugins/install/config-cache.js';
import { type InstallEvents, installPlugins, type PluginResult } from '../../../plugins/install/installer.js';
import { formatBytes } from '../../../plugins/install/providers/provider.js';
import type { CommandContext } from '../../command-kit.js';
import { EXIT_OK, EXIT_PROBLEMS } from '../../errors.js';
import { plural, printJson, relativeTo } from '../../output.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const concurrency = positiveInt(opts.concurrency, '--concurrency');
  const maxMiB = positiveInt(opts.maxSize, '--max-size');
  // An unchanged config (same bytes as the last run validated without a problem) skips loading the
  // validator; anything else is validated in full.
  const config = await readConfigBytes(String(opts.config ?? './optimus.yaml'));
  let section: PluginsSection | undefined = config && (await cachedSection(config));
  let configSha256: string | undefined;
  if (!section) {
    const { loadSection } = await import('./install-support.js');
    const loaded = loadSection(opts, config?.text);
    if ('exit' in loaded) return loaded.exit;
    section = loaded.section;
    if (config && !loaded.problems) configSha256 = config.sha256;
  } else configSha256 = config?.sha256;
  const json = !!opts.json;
  const reporter = json ? undefined : createReporter();
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const report = await installPlugins(section, {
      names: args,
      frozen: !!opts.frozen,
      force: !!opts.force,
      concurrency,
      maxArtifactBytes: maxMiB * 1024 * 1024,
      signal: abort.signal,
      ...(configSha256 ? { configSha256 } : {}),
      ...(reporter ? { events: reporter.events } : {}),
    });
    reporter?.stop();
    if (json) {
      printJson({
        ok: report.ok,
        install_location: relativeTo(report.installLocation, process.cwd()),
        lock_file: relativeTo(report.lockFile, process.cwd()),
        lock_written: report.lockWritten,
        up_to_date: !report.fetched,
        plugins: report.results,
      });
      return report.ok ? EXIT_OK : EXIT_PROBLEMS;
    }
    for (const r of report.results)
      if (r.status === 'unchanged' && report.fetched) process.stdout.write(`${line(r)}\n`);
    for (const r of report.results)
      for (const w of r.warnings) process.stderr.write(`${pc.yellow('warning')} ${w}\n`);
    const count = (s: PluginResult['status']) => report.results.filter((r) => r.status === s).length;
    const failed = count('failed');
    if (!report.fetched) {
      process.stdout.write(
        `${report.results.length ? `${plural(report.results.length, 'plugin')} up to date` : 'no plugins configured'}; nothing downloaded\n`,
      );
    } else {
      const parts = [
        `${count('installed')} installed`,
        `${count('updated')} updated`,
        `${count('unchanged')} unchanged`,
        failed ? pc.red(`${failed} failed`) : '0 failed',
      ];
      process.stdout.write(
        `${parts.join(', ')}${report.lockWritten ? `; wrote ${relativeTo(report.lockFile, process.cwd())}` : ''}\n`,
      );
    }
    return report.ok ? EXIT_OK : EXIT_PROBLEMS;
  } finally {
    reporter?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function positiveInt(v: unknown, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new OptimusError('USAGE', `${flag} must be a positive integer, got "${String(v)}"`, {
      category: 'usage',
    });
  return n;
}

function line(r: PluginResult): string {
  const what = [r.kind, r.version].filter(Boolean).join(' ');
  switch (r.status) {
    case 'failed':
      return `${pc.red('✗')} ${r.name}  ${r.error?.message ?? ''} ${pc.dim(`[${r.error?.code}]`)}${r.error?.hint ? `\n    ${pc.dim(`hint: ${r.error.hint}`)}` : ''}`;
    case 'unchanged':
      return `${pc.dim('=')} ${r.name}  ${pc.dim(`${what}, up to date`)}`;
    default:
      return `${pc.green('✓')} ${r.name}  ${what} ${pc.dim(`${r.status}${r.bytes !== undefined ? `, ${formatBytes(r.bytes)}` : ''}`)}`;
  }
}

/** A progress bar per plugin on a TTY; one line per finished plugin elsewhere (CI, pipes). */
function createReporter(): { events: InstallEvents; stop(): void } {
  const tty = !!process.stderr.isTTY && !process.env.CI;
  if (!tty) {
    return {
      events: {
        onDone: (r) => process.stdout.write(`${line(r)}\n`),
        onWaitForLock: (pid) => process.stderr.write(`waiting for another install (pid ${pid})…\n`),
      },
      stop() {},
    };
  }
  type Bar = { update(v: number, payload?: object): void; setTotal(t: number): void; stop(): void };
  let multi:
    | { create(total: number, start: number, payload?: object): Bar; stop(): void; log(s: string): void }
    | undefined;
  const bars = new Map<string, Bar>();
  const pending: string[] = [];
  let stopped = false;
  // cli-progress is loaded only when a bar is drawn, keeping the no-change path fast.
  const ready = import('cli-progress').then((m) => {
    const cp = m.default;
    multi = new cp.MultiBar(
      {
        format: ' {bar} {percentage}% {value}/{total} {name} {status}',
        hideCursor: true,
        clearOnComplete: false,
        stream: process.stderr,
        formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? formatBytes(v) : String(v)),
      },
      cp.Presets.shades_classic,
    );
    for (const p of pending) multi.log(`${p}\n`);
  });
  return {
    events: {
      onStart(name) {
        void ready.then(() => {
          if (!stopped && multi && !bars.has(name)) bars.set(name, multi.create(1, 0, { name, status: '' }));
        });
      },
      onProgress(name, received, total) {
        const bar = bars.get(name);
        if (!bar) return;
        bar.setTotal(total ?? Math.max(received, 1));
        bar.update(received, { name, status: '' });
      },
      onDone(r) {
        const bar = bars.get(r.name);
        if (bar)
          bar.update(r.bytes ?? 0, {
            name: r.name,
            status: r.status === 'failed' ? pc.red('failed') : pc.green(r.status),
          });
        if (r.status === 'failed') {
          if (multi) multi.log(`${line(r)}\n`);
          else pending.push(line(r));
        }
      },
      onWaitForLock: (pid) => process.stderr.write(`waiting for another install (pid ${pid})…\n`),
    },
    stop() {
      if (stopped) return;
      stopped = true;
      multi?.stop();
    },
  };
}
