/**
 * Client settings for S3 and GCS from a provider entry's fields, shared by the plugin providers and
 * the DAG storage. Only the SDKs' types are imported here, so a caller that loads an SDK lazily
 * keeps doing so.
 */
import { existsSync } from 'node:fs';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { StorageOptions } from '@google-cloud/storage';

export interface S3ClientFields {
  region?: string | undefined;
  endpoint?: string | undefined;
  forcePathStyle?: boolean | undefined;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  sessionToken?: string | undefined;
}

export function s3ClientConfig(opts: S3ClientFields): S3ClientConfig {
  const config: S3ClientConfig = {
    region: opts.region ?? process.env.AWS_REGION ?? 'us-east-1',
    // Callers verify what they read (an artifact's sha256) or write small whole objects (DAGs);
    // S3-compatible stores differ in checksum support.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 4,
  };
  if (opts.endpoint) config.endpoint = opts.endpoint;
  if (opts.forcePathStyle !== undefined) config.forcePathStyle = opts.forcePathStyle;
  if (opts.accessKeyId && opts.secretAccessKey) {
    config.credentials = {
      accessKeyId: opts.accessKeyId,
      secretAccessKey: opts.secretAccessKey,
      ...(opts.sessionToken ? { sessionToken: opts.sessionToken } : {}),
    };
  }
  return config;
}

/**
 * GCS options: the endpoint, and `serviceAccount` as a key file path or the base64 of its JSON.
 * `invalid` makes the error for a value that is neither; the parser's own message quotes the
 * input, so it is never shown.
 */
export function gcsStorageOptions(
  opts: { endpoint?: string | undefined; serviceAccount?: string | undefined },
  invalid: () => Error,
): StorageOptions {
  const config: StorageOptions = { retryOptions: { autoRetry: true, maxRetries: 3 } };
  if (opts.endpoint) config.apiEndpoint = opts.endpoint;
  if (opts.serviceAccount) {
    if (existsSync(opts.serviceAccount)) config.keyFilename = opts.serviceAccount;
    else {
      let creds: { project_id?: string; client_email?: string; private_key?: string };
      try {
        creds = JSON.parse(Buffer.from(opts.serviceAccount, 'base64').toString('utf8'));
      } catch {
        throw invalid();
      }
      config.credentials = creds;
      if (creds.project_id) config.projectId = creds.project_id;
    }
  }
  return config;
}
