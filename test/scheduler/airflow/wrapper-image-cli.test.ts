/** `optimus plugin image` as a user runs it: contexts written, JSON answers and clear errors. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOptimus } from '../../helpers/cli.js';
import { EXAMPLE_PLUGINS } from '../../helpers/temp-project.js';
import { tempDir } from '../../plugins/helpers.js';

const image = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const cwd = tempDir('optimus-image-cli-');
  return { cwd, r: runOptimus(['plugin', 'image', ...args], { cwd, env }) };
};

describe('optimus plugin image', () => {
  it('writes one context per version of every plugin and answers in JSON', () => {
    const { cwd, r } = image(['--all', '--plugins', EXAMPLE_PLUGINS, '--registry', 'reg.acme/opt', '--json']);
    expect(r.code).toBe(0);
    const answer = r.json();
    expect(answer).toMatchObject({
      ok: true,
      base_image: 'optimus-ts/base:1',
      registry: 'reg.acme/opt',
      engine: null,
    });
    const wh = answer.images.filter((i: { plugin: string }) => i.plugin === 'warehouse-load');
    expect(wh.map((i: { version: string }) => i.version)).toEqual(['1.1', 'default']);
    for (const i of answer.images) {
      expect(i.image).toMatch(new RegExp(`^reg\\.acme/opt/${i.plugin}:[^:]+-[0-9a-f]{8}$`));
      expect(i).toMatchObject({ built: false, pushed: false });
      const dockerfile = readFileSync(join(cwd, i.context, 'Dockerfile'), 'utf8');
      expect(dockerfile).toContain(`FROM ${i.executor_image}\n`);
    }
  });

  it('takes the base image and registry from the server config', () => {
    const dir = tempDir('optimus-image-cli-');
    const config = join(dir, 'server.yaml');
    writeFileSync(
      config,
      `plugins: {install_location: ${JSON.stringify(EXAMPLE_PLUGINS)}}\nscheduler: {base_image: "acme/base:7", registry: "reg.acme/x"}\n`,
    );
    const { r } = image(['data-audit', '-c', config, '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ base_image: 'acme/base:7', registry: 'reg.acme/x' });
    expect(r.json().images[0].image).toMatch(/^reg\.acme\/x\/data-audit:0\.4\.1-[0-9a-f]{8}$/);
  });

  it('prints each image on stdout and progress on stderr', () => {
    const { r } = image(['slack-notify', '--plugins', EXAMPLE_PLUGINS]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^localhost:5000\/optimus\/slack-notify:2\.0\.0-[0-9a-f]{8}\n$/);
    expect(r.stderr).toMatch(
      /^slack-notify \(default\): .* context in wrapper-images\/slack-notify\/default\n$/,
    );
  });

  it('suggests the nearest name for an unknown plugin', () => {
    const { r } = image(['slak-notify', '--plugins', EXAMPLE_PLUGINS, '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error).toMatchObject({ code: 'PLUGIN_NOT_FOUND', hint: 'did you mean slack-notify?' });
  });

  it('says how to get an engine when --build finds neither docker nor podman', () => {
    const { cwd, r } = image(['data-audit', '--plugins', EXAMPLE_PLUGINS, '--build', '--json'], {
      PATH: dirname(process.execPath) === '/usr/bin' ? '/nonexistent' : dirname(process.execPath),
    });
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({ code: 'IMAGE_ENGINE_MISSING' });
    expect(r.json().error.hint).toMatch(/apt-get install docker\.io/);
    expect(existsSync(join(cwd, 'wrapper-images'))).toBe(false);
  });

  it('writes the other plugins and reports a plugin without an entrypoint', () => {
    const plugins = tempDir('optimus-image-cli-');
    writeFileSync(
      join(plugins, 'legacy.yaml'),
      'name: legacy\ndescription: v1 without entrypoint\nplugintype: task\npluginversion: 1.0.0\nimage: acme/legacy:1\n',
    );
    writeFileSync(
      join(plugins, 'modern.yaml'),
      readFileSync(join(EXAMPLE_PLUGINS, 'optimus-plugin-data-audit.yaml')),
    );
    const { r } = image(['--all', '--plugins', plugins, '--json']);
    expect(r.code).toBe(1);
    const [modern, legacy] = r.json().images;
    expect(legacy).toMatchObject({ plugin: 'legacy', error: { code: 'WRAPPER_ENTRYPOINT_MISSING' } });
    expect(modern).toMatchObject({ plugin: 'data-audit', built: false });
  });

  it('is bad usage without a plugin name or --all', () => {
    const { r } = image(['--plugins', EXAMPLE_PLUGINS, '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('PLUGIN_NAME_MISSING');
  });
});
