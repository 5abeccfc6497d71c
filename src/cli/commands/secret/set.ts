import { readFileSync } from 'node:fs';
import { OptimusError } from '../../../core/errors.js';
import { ServerError, seg } from '../../api-client.js';
import type { CommandContext } from '../../command-kit.js';
import { projectConfig, registerProject, serverClient } from '../../context.js';
import { printJson } from '../../output.js';

interface SecretResponse {
  secret: { name: string; namespace: string | null; digest: string; updated_at: string };
}

export async function run({ args, opts }: CommandContext): Promise<number> {
  const config = projectConfig(opts);
  const client = serverClient(opts, config);
  const value = await readValue(args[1], opts.file as string | undefined);
  const body = {
    value: value.toString('base64'),
    ...(opts.namespace ? { namespace_name: String(opts.namespace) } : {}),
  };
  const path = `/api/v1beta1/project/${seg(config.project.name)}/secret/${seg(args[0]!)}`;
  let action = 'created';
  let r: SecretResponse;
  const create = async () => {
    try {
      return await client.post<SecretResponse>(path, body);
    } catch (e) {
      // A secret may come before the first deploy: register what optimus.yaml describes, once.
      if (!(e instanceof ServerError) || !['PROJECT_NOT_FOUND', 'NAMESPACE_NOT_FOUND'].includes(e.body.code))
        throw e;
      await registerProject(client, config, opts.namespace ? [String(opts.namespace)] : []);
      return await client.post<SecretResponse>(path, body);
    }
  };
  try {
    r = await create();
  } catch (e) {
    if (!(e instanceof ServerError) || e.status !== 409) throw e;
    r = await client.put<SecretResponse>(path, body);
    action = 'updated';
  }
  const s = r.secret;
  if (opts.json) printJson({ ok: true, action, secret: s });
  else
    process.stdout.write(
      `secret ${s.name} ${action} for ${s.namespace ? `namespace ${s.namespace}` : `project ${config.project.name}`} (digest ${s.digest.slice(0, 12)}…)\nuse it in a job config as "{{ .secret.${s.name} }}"\n`,
    );
  return 0;
}

/** The value, from the argument, a file, or piped stdin; never echoed anywhere. */
async function readValue(arg: string | undefined, file: string | undefined): Promise<Buffer> {
  if (arg !== undefined && file)
    throw new OptimusError('USAGE', 'give the value either as an argument or with --file, not both', {
      category: 'usage',
    });
  if (arg !== undefined) return Buffer.from(arg);
  if (file) {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new OptimusError(
        'FILE_UNREADABLE',
        `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        { category: 'usage' },
      );
    }
  }
  if (process.stdin.isTTY) {
    throw new OptimusError('SECRET_VALUE_MISSING', 'no secret value given', {
      category: 'usage',
      hint: 'pipe it (`printf %s "$VALUE" | optimus secret set NAME`) or use --file <path>',
    });
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const all = Buffer.concat(chunks);
  // A trailing newline from `echo` is almost never part of the secret.
  const value = all.at(-1) === 0x0a ? all.subarray(0, all.at(-2) === 0x0d ? -2 : -1) : all;
  if (!value.length) {
    throw new OptimusError('SECRET_VALUE_MISSING', 'no secret value given (stdin was empty)', {
      category: 'usage',
      hint: 'pipe it (`printf %s "$VALUE" | optimus secret set NAME`) or use --file <path>',
    });
  }
  return value;
}
