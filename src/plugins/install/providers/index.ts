/**
 * Providers by name, created on first use (so `${VAR}`s are expanded, and heavy SDKs imported, only
 * when a plugin needs them), and the mapping from a plugin entry's `url` to a provider and a ref.
 */
import { OptimusError } from '../../../core/errors.js';
import type { PluginEntry, PluginsSection, ProviderConfig } from '../config.js';
import { displayUrl, expandEnv, type Redactor } from '../secrets.js';
import type { ArtifactProvider } from './provider.js';

export interface HttpTuning {
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
}

export interface ProviderSet {
  get(name: string): Promise<ArtifactProvider>;
  /** The provider and the provider-relative ref for a plugin entry. */
  forEntry(entry: PluginEntry): Promise<{ provider: ArtifactProvider; ref: string }>;
}

export function createProviderSet(
  section: PluginsSection,
  opts: { env: NodeJS.ProcessEnv; redactor: Redactor; http?: HttpTuning },
): ProviderSet {
  const byName = new Map(section.providers.map((p) => [p.name, p]));
  const made = new Map<string, Promise<ArtifactProvider>>();
  const once = (key: string, make: () => Promise<ArtifactProvider>) => {
    let p = made.get(key);
    if (!p) {
      p = make();
      made.set(key, p);
    }
    return p;
  };

  const get = (name: string): Promise<ArtifactProvider> => {
    const cfg = byName.get(name);
    if (!cfg)
      return Promise.reject(
        new OptimusError('PLUGIN_PROVIDER_UNKNOWN', `unknown provider "${name}"`, { category: 'usage' }),
      );
    return once(`named:${name}`, () => makeProvider(cfg, opts));
  };

  return {
    get,
    async forEntry(entry) {
      const url = entry.url;
      if (entry.provider) return { provider: await get(entry.provider), ref: url };
      if (/^https?:\/\//i.test(url)) {
        const { createHttpProvider } = await import('./http.js');
        return {
          provider: await once('anon:http', async () => createHttpProvider({ name: '(http)', ...opts.http })),
          ref: url,
        };
      }
      if (/^s3:\/\//i.test(url)) {
        const { createS3Provider } = await import('./s3.js');
        return { provider: await once('anon:s3', async () => createS3Provider({ name: '(s3)' })), ref: url };
      }
      if (/^(gs|gcs):\/\//i.test(url)) {
        const { createGcsProvider } = await import('./gcs.js');
        return {
          provider: await once('anon:gcs', async () => createGcsProvider({ name: '(gcs)' })),
          ref: url,
        };
      }
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^file:\/\//i.test(url)) {
        throw new OptimusError('PLUGIN_URL_INVALID', `unsupported URL scheme in "${displayUrl(url)}"`, {
          category: 'invalid',
          hint: 'use http(s)://, file://, s3://, gs:// or a path',
        });
      }
      const { createFileProvider } = await import('./file.js');
      return {
        provider: await once('anon:file', async () =>
          createFileProvider({ name: '(file)', root: section.configDir }),
        ),
        ref: url,
      };
    },
  };
}

async function makeProvider(
  cfg: ProviderConfig,
  opts: { env: NodeJS.ProcessEnv; redactor: Redactor; http?: HttpTuning },
): Promise<ArtifactProvider> {
  const x = (value: string | undefined, field: string, secret: boolean): string | undefined =>
    value === undefined
      ? undefined
      : expandEnv(value, { at: cfg.at, field: field.split('.') }, opts.env, opts.redactor, secret);
  switch (cfg.type) {
    case 'http': {
      const { createHttpProvider } = await import('./http.js');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(cfg.headers ?? {}))
        headers[k] = expandEnv(v, { at: cfg.at, field: ['headers', k] }, opts.env, opts.redactor, true)!;
      if (cfg.auth && 'token' in cfg.auth)
        headers.authorization = `Bearer ${x(cfg.auth.token, 'auth.token', true)}`;
      else if (cfg.auth) {
        const user = x(cfg.auth.username, 'auth.username', false)!;
        const pass = x(cfg.auth.password, 'auth.password', true)!;
        const basic = Buffer.from(`${user}:${pass}`).toString('base64');
        opts.redactor.add(basic);
        headers.authorization = `Basic ${basic}`;
      }
      return createHttpProvider({
        name: cfg.name,
        baseUrl: x(cfg.url, 'url', false)!,
        headers,
        ...opts.http,
      });
    }
    case 'file': {
      const { createFileProvider } = await import('./file.js');
      return createFileProvider({ name: cfg.name, root: cfg.root });
    }
    case 's3': {
      const { createS3Provider } = await import('./s3.js');
      const o: import('./s3.js').S3ProviderOptions = { name: cfg.name, bucket: cfg.bucket };
      if (cfg.prefix) o.prefix = cfg.prefix;
      if (cfg.region) o.region = x(cfg.region, 'region', false)!;
      if (cfg.endpoint) o.endpoint = x(cfg.endpoint, 'endpoint', false)!;
      if (cfg.force_path_style !== undefined) o.forcePathStyle = cfg.force_path_style;
      if (cfg.access_key_id) o.accessKeyId = x(cfg.access_key_id, 'access_key_id', true)!;
      if (cfg.secret_access_key) o.secretAccessKey = x(cfg.secret_access_key, 'secret_access_key', true)!;
      if (cfg.session_token) o.sessionToken = x(cfg.session_token, 'session_token', true)!;
      return createS3Provider(o);
    }
    case 'gcs': {
      const { createGcsProvider } = await import('./gcs.js');
      const o: import('./gcs.js').GcsProviderOptions = { name: cfg.name, bucket: cfg.bucket };
      if (cfg.prefix) o.prefix = cfg.prefix;
      if (cfg.endpoint) o.endpoint = x(cfg.endpoint, 'endpoint', false)!;
      if (cfg.service_account) o.serviceAccount = x(cfg.service_account, 'service_account', true)!;
      return createGcsProvider(o);
    }
  }
}

/** How a plugin's origin is recorded in the lock file: stable across machines, never a credential. */
export function sourceOf(entry: Pick<PluginEntry, 'url' | 'provider'>): string {
  const url = displayUrl(entry.url);
  return entry.provider ? `${entry.provider}:${url}` : url;
}
