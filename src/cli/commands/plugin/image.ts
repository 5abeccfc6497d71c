/**
 * `optimus plugin image <plugin> | --all`: writes the build context of each plugin version's
 * wrapper image (wrapper-image.ts), and with --build / --push builds and pushes it with docker
 * (podman when docker is not installed). Plugins come from --plugins, else the server config's
 * install location (-c), else the project's (optimus.yaml under --dir).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, relative, resolve } from 'node:path';
import { distance } from 'fastest-levenshtein';
import { isOptimusError, OptimusError } from '../../../core/errors.js';
import { errorsOf } from '../../../core/problem.js';
import { DEFAULT_BASE_IMAGE, DEFAULT_REGISTRY } from '../../../scheduler/airflow/contract.js';
import {
  checkImageRef,
  type WrapperBuild,
  type WrapperImages,
  wrapperBuild,
  writeWrapperContext,
} from '../../../scheduler/airflow/wrapper-image.js';
import type { CommandContext } from '../../command-kit.js';
import { EXIT_OK, EXIT_PROBLEMS } from '../../errors.js';
import { formatProblem, printJson } from '../../output.js';

type Engine = 'docker' | 'podman';

interface Outcome {
  plugin: string;
  version: string;
  image?: string;
  executor_image?: string;
  context?: string;
  built: boolean;
  pushed: boolean;
  error?: { code: string; message: string; hint?: string };
}

export async function run({ args, opts }: CommandContext): Promise<number> {
  const json = Boolean(opts.json);
  const progress = (line: string) => {
    if (!json) process.stderr.write(`${line}\n`);
  };
  const name = args[0];
  if (!name && !opts.all)
    throw new OptimusError('PLUGIN_NAME_MISSING', 'name a plugin, or pass --all for every installed plugin', {
      category: 'usage',
      hint: 'optimus plugin image <plugin> [--build]; `optimus plugin list` shows what is installed',
    });
  if (name && opts.all)
    throw new OptimusError('PLUGIN_NAME_WITH_ALL', `--all builds every plugin: do not name one (${name})`, {
      category: 'usage',
      hint: 'drop the plugin name, or drop --all',
    });

  const { pluginsDir, images } = await settings(opts);
  const { loadPluginRegistry } = await import('../../../server/plugin-registry.js');
  const set = (await loadPluginRegistry(pluginsDir)).current();
  for (const p of errorsOf(set.problems)) progress(formatProblem({ ...p, severity: 'warning' }));
  const known = [...set.plugins.keys()].sort();
  if (name && !set.plugins.has(name)) throw unknownPlugin(name, known, pluginsDir);
  if (!known.length)
    throw new OptimusError('PLUGIN_NONE_INSTALLED', `no plugins are installed in ${shown(pluginsDir)}`, {
      hint: 'install them with `optimus plugin install`, or pass --plugins <dir>',
    });

  const build = Boolean(opts.build || opts.push);
  const engine = build ? findEngine() : undefined;
  const output = resolve(String(opts.output ?? 'wrapper-images'));
  const outcomes: Outcome[] = [];
  for (const pluginName of name ? [name] : known) {
    const plugin = set.plugins.get(pluginName)!;
    for (const version of Object.keys(plugin.versions).sort()) {
      const outcome: Outcome = { plugin: pluginName, version, built: false, pushed: false };
      outcomes.push(outcome);
      let wrapper: WrapperBuild;
      try {
        wrapper = wrapperBuild(plugin, images, version);
      } catch (e) {
        if (!isOptimusError(e)) throw e;
        // One plugin's problem: with --all the others are still written.
        if (name) throw e;
        outcome.error = { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
        progress(`${pluginName} (${version}): skipped: ${e.message}`);
        continue;
      }
      const dir = join(output, pluginName, version);
      await writeWrapperContext(dir, wrapper);
      Object.assign(outcome, {
        image: wrapper.image,
        executor_image: wrapper.executorImage,
        context: shown(dir),
      });
      progress(`${pluginName} (${version}): ${wrapper.image} — context in ${shown(dir)}`);
      if (!engine) continue;
      progress(`${pluginName} (${version}): ${engine} build -t ${wrapper.image}`);
      await runEngine(engine, ['build', '-t', wrapper.image, dir], wrapper, 'build');
      outcome.built = true;
      if (opts.push) {
        progress(`${pluginName} (${version}): ${engine} push ${wrapper.image}`);
        await runEngine(engine, ['push', wrapper.image], wrapper, 'push');
        outcome.pushed = true;
      }
    }
  }

  const ok = outcomes.every((o) => !o.error);
  if (json)
    printJson({
      ok,
      base_image: images.baseImage,
      registry: images.registry,
      output: shown(output),
      engine: engine ?? null,
      images: outcomes,
    });
  else for (const o of outcomes) if (o.image) process.stdout.write(`${o.image}\n`);
  return ok ? EXIT_OK : EXIT_PROBLEMS;
}

/** Base image and registry: flags, else the server config's scheduler section, else contract.ts's defaults. */
async function settings(
  opts: Record<string, unknown>,
): Promise<{ pluginsDir: string; images: WrapperImages }> {
  let server: { baseImage?: string; registry?: string; installLocation?: string } = {};
  if (typeof opts.config === 'string') {
    const { loadServerConfig } = await import('../../../spec/server-config.js');
    const { config, problems } = loadServerConfig(opts.config);
    if (!config) {
      const first = errorsOf(problems)[0];
      throw new OptimusError(
        first?.code ?? 'SERVER_CONFIG_INVALID',
        `cannot use the server config ${opts.config}: ${first?.message ?? 'it does not load'}`,
        {
          category: 'usage',
          hint: first?.hint ?? 'check the file, or pass --base-image and --registry instead',
        },
      );
    }
    server = {
      ...(config.scheduler.baseImage ? { baseImage: config.scheduler.baseImage } : {}),
      ...(config.scheduler.registry ? { registry: config.scheduler.registry } : {}),
      installLocation: config.plugins.installLocation,
    };
  }
  const baseImage = (opts.baseImage as string | undefined) ?? server.baseImage ?? DEFAULT_BASE_IMAGE;
  const registry = (opts.registry as string | undefined) ?? server.registry ?? DEFAULT_REGISTRY;
  checkImageRef(baseImage, '--base-image');
  if (!/^[A-Za-z0-9][A-Za-z0-9._\-/:]*$/.test(registry))
    throw new OptimusError(
      'REGISTRY_INVALID',
      `--registry ${JSON.stringify(registry)} is not a registry path`,
      {
        category: 'usage',
        hint: 'write it as host[:port][/path], e.g. registry.acme.internal/optimus',
      },
    );
  let pluginsDir = opts.plugins as string | undefined;
  if (!pluginsDir) pluginsDir = server.installLocation;
  if (!pluginsDir) {
    const { loadProjectConfig } = await import('../../../spec/project-config.js');
    const project = loadProjectConfig(String(opts.dir ?? '.'));
    if (!project.config)
      throw new OptimusError(
        'PLUGINS_DIR_UNKNOWN',
        `no optimus.yaml in ${String(opts.dir ?? '.')} to find the installed plugins from`,
        {
          category: 'usage',
          hint: 'pass --plugins <dir>, -c <server config>, or --dir <project root>',
        },
      );
    pluginsDir = project.config.installLocation;
  }
  return { pluginsDir: resolve(pluginsDir), images: { baseImage, registry } };
}

function unknownPlugin(name: string, known: readonly string[], dir: string): OptimusError {
  const close = known
    .map((k) => ({ k, d: distance(name, k) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(name.length / 3)))
    .sort((a, b) => a.d - b.d)
    .map((x) => x.k);
  return new OptimusError('PLUGIN_NOT_FOUND', `plugin "${name}" is not installed in ${shown(dir)}`, {
    category: 'usage',
    hint: close.length
      ? `did you mean ${close.slice(0, 3).join(', ')}?`
      : known.length
        ? `installed: ${known.join(', ')}`
        : 'install plugins with `optimus plugin install`',
  });
}

function onPath(program: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

function findEngine(): Engine {
  if (onPath('docker')) return 'docker';
  if (onPath('podman')) return 'podman';
  throw new OptimusError(
    'IMAGE_ENGINE_MISSING',
    'neither docker nor podman is installed: nothing can build the images',
    {
      hint: 'install one (apt-get install docker.io, or podman), or drop --build and build the written contexts elsewhere',
    },
  );
}

/** Runs the engine, keeping its output for the error; a failure names the image and the engine's last words. */
function runEngine(
  engine: Engine,
  argv: string[],
  wrapper: WrapperBuild,
  what: 'build' | 'push',
): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(engine, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const keep = (d: Buffer) => {
      text = (text + d.toString('utf8')).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) =>
      fail(
        new OptimusError('IMAGE_ENGINE_FAILED', `${engine} could not be started: ${e.message}`, {
          category: 'io',
          hint: 'check that it is installed and on PATH',
        }),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) return done();
      const last = text.trim().split('\n').filter(Boolean).slice(-3).join(' | ') || `exit code ${code}`;
      const hint = /daemon|docker\.sock|connect/i.test(last)
        ? `start the engine (dockerd), or set DOCKER_HOST`
        : what === 'build' && last.includes(wrapper.baseImage)
          ? `build the base image first: scripts/build-base-image.sh ${wrapper.baseImage}`
          : what === 'build'
            ? `check that ${wrapper.executorImage} and ${wrapper.baseImage} exist or can be pulled`
            : `log in to the registry (\`${engine} login\`) and check that ${wrapper.image} may be pushed there`;
      fail(
        new OptimusError(
          what === 'build' ? 'IMAGE_BUILD_FAILED' : 'IMAGE_PUSH_FAILED',
          `${engine} ${what} of ${wrapper.image} failed: ${last}`,
          { category: 'io', hint },
        ),
      );
    });
  });
}

/** Relative to the working directory when under it, else absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel || '.';
}
