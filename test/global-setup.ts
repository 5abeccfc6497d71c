/**
 * The example project's plugins are installed declaratively (examples/project/optimus.yaml), as a
 * user would: tests that validate the example read them from its install location. --frozen keeps
 * the committed lock honest.
 */
import { join } from 'node:path';
import { loadPluginsConfig } from '../src/plugins/install/config.js';
import { installPlugins } from '../src/plugins/install/installer.js';

export default async function setup(): Promise<void> {
  const { section, problems } = loadPluginsConfig(
    join(import.meta.dirname, '../examples/project/optimus.yaml'),
  );
  if (!section)
    throw new Error(`examples/project/optimus.yaml: ${problems.map((p) => p.message).join('; ')}`);
  const report = await installPlugins(section, { frozen: true });
  if (!report.ok)
    throw new Error(
      `installing the example plugins failed: ${JSON.stringify(report.results.filter((r) => r.error))}`,
    );
}
