/** Artifacts on a local or mounted filesystem. */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OptimusError } from '../../../core/errors.js';
import { ioMessage } from '../../../core/io-message.js';
import {
  type ArtifactProvider,
  type AvailableArtifact,
  type FetchOptions,
  type FetchResult,
  saveStream,
  tooLarge,
} from './provider.js';

export function createFileProvider(opts: { name: string; root: string }): ArtifactProvider {
  const pathOf = (ref: string): string => {
    const p = ref.startsWith('file://') ? fileURLToPath(ref) : ref;
    return isAbsolute(p) ? p : resolve(opts.root, p);
  };
  return {
    name: opts.name,
    type: 'file',
    async fetch(ref: string, dest: string, fo: FetchOptions): Promise<FetchResult> {
      const path = pathOf(ref);
      let size: number;
      try {
        const st = await stat(path);
        if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
        size = st.size;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new OptimusError(
          code === 'ENOENT' ? 'PLUGIN_ARTIFACT_NOT_FOUND' : 'PLUGIN_DOWNLOAD_FAILED',
          `${path}: ${ioMessage(e)}`,
          {
            category: code === 'ENOENT' ? 'not_found' : 'io',
            hint: 'paths are relative to the config file (or to the file provider root)',
          },
        );
      }
      if (size > fo.maxBytes) throw tooLarge(path, fo.maxBytes);
      return saveStream(createReadStream(path), dest, path, { ...fo, total: size });
    },
    async list(): Promise<AvailableArtifact[]> {
      const out: AvailableArtifact[] = [];
      const walk = async (dir: string): Promise<void> => {
        let entries: import('node:fs').Dirent[];
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (e) {
          throw new OptimusError('PLUGIN_PROVIDER_FAILED', `${dir}: ${ioMessage(e)}`, { category: 'io' });
        }
        for (const d of entries) {
          if (d.name.startsWith('.')) continue;
          const p = join(dir, d.name);
          if (d.isDirectory()) await walk(p);
          else if (d.isFile())
            out.push({ ref: relative(opts.root, p).split(sep).join('/'), size: (await stat(p)).size });
        }
      };
      await walk(opts.root);
      return out;
    },
  };
}
