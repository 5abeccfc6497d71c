/** Artifacts in Google Cloud Storage (or a private/test endpoint speaking its JSON API). */
import { Storage } from '@google-cloud/storage';
import { OptimusError } from '../../../core/errors.js';
import { gcsStorageOptions } from './cloud-config.js';
import {
  type ArtifactProvider,
  type AvailableArtifact,
  bucketLocator,
  type FetchOptions,
  type FetchResult,
  joinKey,
  saveStream,
  tooLarge,
} from './provider.js';

export interface GcsProviderOptions {
  name: string;
  bucket?: string;
  prefix?: string;
  /** Base64 of the service-account JSON, or a path to the JSON file. */
  serviceAccount?: string;
  endpoint?: string;
}

export function createGcsProvider(opts: GcsProviderOptions): ArtifactProvider {
  const config = gcsStorageOptions(
    opts,
    () =>
      new OptimusError(
        'PLUGIN_CREDENTIALS_INVALID',
        `provider "${opts.name}": service_account is neither a file nor base64 JSON`,
        {
          category: 'invalid',
          hint: 'set service_account to a key file path or to the base64 of its JSON (e.g. from an environment variable)',
        },
      ),
  );
  const storage = new Storage(config);

  const locate = bucketLocator(opts, /gs|gcs/, 'a gs://bucket/object URL');

  return {
    name: opts.name,
    type: 'gcs',
    async fetch(ref: string, dest: string, fo: FetchOptions): Promise<FetchResult> {
      const { bucket, key } = locate(ref);
      const what = `gs://${bucket}/${key}`;
      const file = storage.bucket(bucket).file(key);
      let total: number | undefined;
      try {
        const [meta] = await file.getMetadata();
        if (meta.size !== undefined) total = Number(meta.size);
      } catch (e) {
        throw cloudError(what, e);
      }
      if (total !== undefined && total > fo.maxBytes) throw tooLarge(what, fo.maxBytes);
      try {
        // Integrity is the sha256 check that follows; the client's crc/md5 check needs hashes not every endpoint sends.
        return await saveStream(file.createReadStream({ validation: false }), dest, what, {
          ...fo,
          ...(total !== undefined ? { total } : {}),
        });
      } catch (e) {
        if (e instanceof OptimusError) throw e;
        throw cloudError(what, e);
      }
    },
    async list(): Promise<AvailableArtifact[]> {
      if (!opts.bucket) return [];
      const prefix = opts.prefix ? joinKey(opts.prefix, '') : undefined;
      try {
        const [files] = await storage.bucket(opts.bucket).getFiles(prefix ? { prefix } : {});
        return files
          .filter((f) => !f.name.endsWith('/'))
          .map((f) => {
            const ref = prefix && f.name.startsWith(prefix) ? f.name.slice(prefix.length) : f.name;
            const size = f.metadata?.size;
            return { ref, ...(size !== undefined ? { size: Number(size) } : {}) };
          });
      } catch (e) {
        throw cloudError(`gs://${opts.bucket}/${prefix ?? ''}`, e);
      }
    },
  };
}

function cloudError(what: string, e: unknown): OptimusError {
  const err = e as { code?: number | string; name?: string };
  if (err.code === 404)
    return new OptimusError('PLUGIN_ARTIFACT_NOT_FOUND', `${what}: not found`, {
      category: 'not_found',
      hint: 'check the url and bucket',
    });
  const denied = err.code === 401 || err.code === 403;
  return new OptimusError(
    'PLUGIN_DOWNLOAD_FAILED',
    `${what}: ${typeof err.code === 'number' ? `HTTP ${err.code}` : (err.code ?? err.name ?? 'error')}`,
    {
      category: 'io',
      hint: denied ? "check the provider's service_account" : 'check the endpoint and bucket',
    },
  );
}
