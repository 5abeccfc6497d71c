/**
 * A fast path for `optimus plugin install` when the config file has not changed: the state file in
 * install_location keeps the sha256 of the config bytes that the last run validated (only when they
 * had no problem at all) and the plugins section that validation produced. When the file's bytes
 * hash the same, that section is used as is and the schema validator never loads; any other byte
 * sequence is fully validated. The install_location read from the YAML here is only a hint of where
 * to look for the record: the record itself is trusted only through the hash.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import jsYaml from 'js-yaml';
import type { PluginsSection } from './config.js';
import { type ConfigRecord, STATE_FILE } from './lock.js';

export interface ConfigBytes {
  /** Absolute path of the config file. */
  file: string;
  text: string;
  sha256: string;
}

/** The config file's content and its hash, or undefined when it cannot be read (the validator reports why). */
export async function readConfigBytes(configPath: string): Promise<ConfigBytes | undefined> {
  const file = resolve(configPath);
  try {
    const bytes = await readFile(file);
    return { file, text: bytes.toString('utf8'), sha256: createHash('sha256').update(bytes).digest('hex') };
  } catch {
    return undefined;
  }
}

/** The section a previous run validated from exactly these bytes, if one is recorded. */
export async function cachedSection(config: ConfigBytes): Promise<PluginsSection | undefined> {
  let location: string;
  try {
    const root = jsYaml.load(config.text, { schema: jsYaml.CORE_SCHEMA }) as {
      plugins?: { install_location?: unknown };
    } | null;
    const loc = root?.plugins?.install_location;
    const dir = dirname(config.file);
    location =
      typeof loc === 'string' && loc ? (isAbsolute(loc) ? loc : resolve(dir, loc)) : resolve(dir, '.plugins');
  } catch {
    return undefined;
  }
  let record: ConfigRecord | undefined;
  try {
    record = (JSON.parse(await readFile(join(location, STATE_FILE), 'utf8')) as { config?: ConfigRecord })
      .config;
  } catch {
    return undefined;
  }
  if (
    !record ||
    record.file !== config.file ||
    record.sha256 !== config.sha256 ||
    typeof record.section !== 'object' ||
    record.section === null ||
    record.section.file !== config.file ||
    record.section.installLocation !== location ||
    !Array.isArray(record.section.list) ||
    !Array.isArray(record.section.providers)
  )
    return undefined;
  return record.section;
}

const SECRET_FIELDS = new Set([
  'headers',
  'auth',
  'access_key_id',
  'secret_access_key',
  'session_token',
  'service_account',
]);
const ONLY_VARS = /^(?:\$\{[A-Za-z_][A-Za-z0-9_]*\})+$/;

/**
 * Whether the section may be copied into the state file: never when a provider holds a credential
 * written literally in the config (anything but `${VAR}` references), or a URL with user info. Such
 * configs are simply validated on every run.
 */
export function recordable(section: PluginsSection): boolean {
  const literalSecret = (v: unknown): boolean => {
    if (typeof v === 'string') return !ONLY_VARS.test(v);
    if (v && typeof v === 'object') return Object.values(v).some(literalSecret);
    return v !== undefined;
  };
  const userInfo = (v: unknown) => typeof v === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(v);
  return section.providers.every((p) =>
    Object.entries(p).every(([k, v]) => (SECRET_FIELDS.has(k) ? !literalSecret(v) : !userInfo(v))),
  );
}
