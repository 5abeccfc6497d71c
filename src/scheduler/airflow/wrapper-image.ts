/**
 * Wrapper images: what an Airflow pod runs for one plugin. A plugin author ships only an executor
 * image; its wrapper is built from it here, centrally: `FROM <executor image>`, the toolbox and
 * entrypoint copied from the base image (images/base/), and `plugin.sh`, which execs the plugin's
 * entrypoint once the base entrypoint has fetched and loaded the node's run input. The tag is
 * contract.ts's wrapperImageRef, so it changes exactly when the executor image, the base image or
 * the entrypoint does.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OptimusError } from '../../core/errors.js';
import { quote } from '../../core/names.js';
import { type Entrypoint, imageRef, type Plugin } from '../../core/plugin.js';
import { WRAPPER_HOME, wrapperImageRef } from './contract.js';

export interface WrapperImages {
  baseImage: string;
  registry: string;
}

/** One plugin version's wrapper: its tag, what it is made from and the files of its build context. */
export interface WrapperBuild {
  plugin: string;
  /** `default` or a named version of the plugin spec. */
  version: string;
  executorImage: string;
  entrypoint: Entrypoint;
  baseImage: string;
  image: string;
  /** File name → content: Dockerfile, plugin.sh and wrapper.json. */
  files: Record<string, string>;
}

/** The wrapper image of a plugin version, or undefined when the plugin has no such version. */
export function wrapperImageOf(
  plugin: Plugin,
  images: WrapperImages,
  version = 'default',
): string | undefined {
  const pv = plugin.versions[version];
  if (!pv) return undefined;
  return wrapperImageRef({
    plugin: plugin.name,
    executorImage: imageRef(pv),
    entrypoint: pv.entrypoint,
    baseImage: images.baseImage,
    registry: images.registry,
  });
}

/** Every version's wrapper image, `default` first: what the plugins route shows. */
export function wrapperImagesOf(plugin: Plugin, images: WrapperImages): Record<string, string> {
  const names = Object.keys(plugin.versions).sort((a, b) =>
    a === 'default' ? -1 : b === 'default' ? 1 : a < b ? -1 : a > b ? 1 : 0,
  );
  return Object.fromEntries(names.map((v) => [v, wrapperImageOf(plugin, images, v)!]));
}

/** A docker image reference as a Dockerfile line can hold it: no spaces, quotes or control characters. */
const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/;

export function checkImageRef(ref: string, what: string): void {
  if (!IMAGE_REF.test(ref) || ref.length > 512)
    throw new OptimusError('IMAGE_REF_INVALID', `${what} ${quote(ref, 80)} is not an image reference`, {
      category: 'usage',
      hint: 'write it as [registry/]repository[:tag], e.g. optimus-ts/base:1',
    });
}

/** `'…'` with `'` written as `'\''`: sh reads the word back byte for byte. */
function shellWord(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * plugin.sh: sourced last by the base entrypoint, it execs the plugin as the docker executor would
 * run it: the exec form's program and arguments, or `shell -c script`.
 */
export function pluginExecScript(entrypoint: Entrypoint): string {
  const argv = entrypoint.args?.length
    ? entrypoint.args
    : [entrypoint.shell || '/bin/sh', '-c', entrypoint.script];
  return `# Written by \`optimus plugin image\`: the plugin's entrypoint, run once the run input is loaded.\nexec ${argv.map(shellWord).join(' ')}\n`;
}

export function wrapperDockerfile(
  b: Pick<WrapperBuild, 'plugin' | 'version' | 'executorImage' | 'baseImage'>,
): string {
  const label = (k: string, v: string) => `LABEL ${k}=${JSON.stringify(v)}`;
  return [
    `# Wrapper image of plugin ${b.plugin} (version ${b.version}), written by \`optimus plugin image\`.`,
    '# The toolbox and entrypoint come from the base image; the executor image is used as it is.',
    `FROM ${b.baseImage} AS optimus-base`,
    `FROM ${b.executorImage}`,
    `COPY --from=optimus-base ${WRAPPER_HOME} ${WRAPPER_HOME}`,
    `COPY plugin.sh ${WRAPPER_HOME}/plugin.sh`,
    label('io.optimus.plugin', b.plugin),
    label('io.optimus.plugin-version', b.version),
    label('io.optimus.executor-image', b.executorImage),
    label('io.optimus.base-image', b.baseImage),
    // The executor image's own CMD must not reach the entrypoint as arguments.
    `ENTRYPOINT ["${WRAPPER_HOME}/busybox", "sh", "${WRAPPER_HOME}/entrypoint.sh"]`,
    'CMD []',
    '',
  ].join('\n');
}

/** The build context of one plugin version's wrapper. */
export function wrapperBuild(plugin: Plugin, images: WrapperImages, version = 'default'): WrapperBuild {
  const pv = plugin.versions[version];
  if (!pv)
    throw new OptimusError(
      'PLUGIN_VERSION_UNKNOWN',
      `plugin ${quote(plugin.name)} has no version ${quote(version)}`,
      { category: 'usage', hint: `its versions: ${Object.keys(plugin.versions).join(', ')}` },
    );
  if (!pv.entrypoint)
    throw new OptimusError(
      'WRAPPER_ENTRYPOINT_MISSING',
      `plugin ${quote(plugin.name)} (version ${version}) declares no entrypoint, so its wrapper cannot know what to run once the run input is loaded`,
      {
        hint: 'add `entrypoint: {shell: /bin/sh, script: …}` (or `args: […]`) to the plugin spec; legacy v1 plugins relying on the image’s own entrypoint need one',
      },
    );
  const executorImage = imageRef(pv);
  checkImageRef(executorImage, `the executor image of plugin ${plugin.name}`);
  checkImageRef(images.baseImage, 'the base image');
  const image = wrapperImageOf(plugin, images, version)!;
  const base = { plugin: plugin.name, version, executorImage, baseImage: images.baseImage };
  const record = {
    plugin: plugin.name,
    version,
    image,
    executor_image: executorImage,
    base_image: images.baseImage,
    entrypoint: pv.entrypoint,
  };
  return {
    ...base,
    entrypoint: pv.entrypoint,
    image,
    files: {
      Dockerfile: wrapperDockerfile(base),
      'plugin.sh': pluginExecScript(pv.entrypoint),
      'wrapper.json': `${JSON.stringify(record, null, 2)}\n`,
    },
  };
}

/**
 * Writes the context into `dir`, replacing one written before: files are written beside it and
 * the folder swapped in, so a build never sees half of an old context and half of a new one.
 */
export async function writeWrapperContext(dir: string, build: WrapperBuild): Promise<void> {
  const next = `${dir}.writing-${process.pid}`;
  await rm(next, { recursive: true, force: true });
  await mkdir(next, { recursive: true });
  for (const [name, text] of Object.entries(build.files))
    await writeFile(join(next, name), text, { mode: name.endsWith('.sh') ? 0o755 : 0o644 });
  await rm(dir, { recursive: true, force: true });
  await rename(next, dir);
}
