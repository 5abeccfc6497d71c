/** Artifacts in S3 or an S3-compatible store (endpoint + path-style addressing). */
import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  S3Client,
} from '@aws-sdk/client-s3';
import { OptimusError } from '../../../core/errors.js';
import { s3ClientConfig } from './cloud-config.js';
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

export interface S3ProviderOptions {
  name: string;
  bucket?: string;
  prefix?: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

export function createS3Provider(opts: S3ProviderOptions): ArtifactProvider {
  const client = new S3Client(s3ClientConfig(opts));

  const locate = bucketLocator(opts, /s3/, 'an s3://bucket/key URL');

  return {
    name: opts.name,
    type: 's3',
    async fetch(ref: string, dest: string, fo: FetchOptions): Promise<FetchResult> {
      const { bucket, key } = locate(ref);
      const what = `s3://${bucket}/${key}`;
      let res: GetObjectCommandOutput;
      try {
        res = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key }),
          fo.signal ? { abortSignal: fo.signal } : {},
        );
      } catch (e) {
        throw cloudError(what, e);
      }
      const total = res.ContentLength;
      if (total !== undefined && total > fo.maxBytes) {
        (res.Body as Readable | undefined)?.destroy?.();
        throw tooLarge(what, fo.maxBytes);
      }
      return saveStream(res.Body as Readable, dest, what, {
        ...fo,
        ...(total !== undefined ? { total } : {}),
      });
    },
    async list(): Promise<AvailableArtifact[]> {
      if (!opts.bucket) return [];
      const out: AvailableArtifact[] = [];
      let token: string | undefined;
      const prefix = opts.prefix ? joinKey(opts.prefix, '') : undefined;
      do {
        let page: ListObjectsV2CommandOutput;
        try {
          page = await client.send(
            new ListObjectsV2Command({
              Bucket: opts.bucket,
              ...(prefix ? { Prefix: prefix } : {}),
              ...(token ? { ContinuationToken: token } : {}),
            }),
          );
        } catch (e) {
          throw cloudError(`s3://${opts.bucket}/${prefix ?? ''}`, e);
        }
        for (const o of page.Contents ?? []) {
          if (!o.Key || o.Key.endsWith('/')) continue;
          const ref = prefix && o.Key.startsWith(prefix) ? o.Key.slice(prefix.length) : o.Key;
          out.push({ ref, ...(o.Size !== undefined ? { size: o.Size } : {}) });
        }
        token = page.NextContinuationToken;
      } while (token);
      return out;
    },
  };
}

/** SDK errors, reduced to what a user can act on (never the request, which may carry credentials). */
function cloudError(what: string, e: unknown): OptimusError {
  const err = e as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    Code?: string;
  };
  const status = err.$metadata?.httpStatusCode;
  if (err.name === 'NoSuchKey' || err.name === 'NotFound' || status === 404) {
    return new OptimusError('PLUGIN_ARTIFACT_NOT_FOUND', `${what}: not found`, {
      category: 'not_found',
      hint: 'check the url and bucket',
    });
  }
  if (err.name === 'AbortError')
    return new OptimusError('PLUGIN_INSTALL_ABORTED', `${what}: aborted`, { category: 'io' });
  const denied =
    status === 403 ||
    err.name === 'AccessDenied' ||
    err.name === 'InvalidAccessKeyId' ||
    err.name === 'SignatureDoesNotMatch';
  return new OptimusError(
    'PLUGIN_DOWNLOAD_FAILED',
    `${what}: ${err.name ?? 'error'}${status ? ` (HTTP ${status})` : ''}`,
    {
      category: 'io',
      hint: denied ? "check the provider's credentials" : 'check the endpoint, region and bucket',
    },
  );
}
