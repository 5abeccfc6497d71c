/** Turn a downloaded artifact into the files to install: validate specs, unpack archives, handshake binaries. */
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { OptimusError } from '../../core/errors.js';
import { errorsOf } from '../../core/problem.js';
import { loadPluginSpec } from '../../spec/plugin-spec.js';
import { handshake } from '../protocol/handshake.js';
import {
  DEFAULT_ARCHIVE_LIMITS,
  detectFormat,
  extractArchive,
  isExecutableHead,
  listFiles,
  readHead,
} from './archive.js';
import type { PluginEntry } from './config.js';
import { type InstallOptions, specFileName } from './installer.js';
import { type LockEntry, sha256File } from './lock.js';

export interface Staged {
  /** File name in install_location → staged absolute path. */
  files: Map<string, { path: string; sha256: string }>;
  warnings: string[];
  kind: LockEntry['kind'];
  version: string;
  dialect: string;
}

export async function stage(
  entry: PluginEntry,
  artifact: string,
  out: string,
  unpackDir: string,
  source: string,
  opts: InstallOptions,
  /** What is known from the download: its sha256, and whether it was a gzip stream already unpacked into `unpackDir`. */
  download: { sha256: string; unpacked: boolean; fileHashes?: ReadonlyMap<string, string> | undefined },
): Promise<Staged> {
  await mkdir(out);
  const unpacked = download.unpacked;
  const format = unpacked ? 'tar.gz' : await detectFormat(artifact, entry.url);
  const warnings: string[] = [];
  const files: Staged['files'] = new Map();
  if (format === 'yaml') {
    const spec = await stageSpec(entry.name, await readFile(artifact, 'utf8'), source, warnings);
    const target = join(out, specFileName(entry.name));
    await writeFile(target, spec.text);
    files.set(specFileName(entry.name), { path: target, sha256: sha256Of(spec.text) });
    return { files, warnings, kind: 'yaml', version: spec.version, dialect: spec.dialect };
  }
  let executable: string;
  let exeSha: string;
  let specText: string | undefined;
  let specLabel = source;
  if (format === 'executable') {
    executable = artifact;
    exeSha = download.sha256;
  } else {
    if (!unpacked)
      await extractArchive(artifact, format, unpackDir, source, opts.archiveLimits ?? DEFAULT_ARCHIVE_LIMITS);
    const found = await listFiles(unpackDir);
    const executables: string[] = [];
    const specs: string[] = [];
    for (const f of found) {
      if (isExecutableHead(await readHead(join(unpackDir, f.path), 4))) executables.push(f.path);
      else if (/\.ya?ml$/i.test(f.path)) specs.push(f.path);
    }
    if (executables.length !== 1) {
      throw new OptimusError(
        'PLUGIN_ARCHIVE_CONTENTS',
        `${source}: an archive must hold exactly one executable, found ${executables.length}${
          executables.length ? ` (${executables.join(', ')})` : ''
        }; entries: ${found.map((f) => f.path).join(', ') || 'none'}`,
        {
          category: 'invalid',
          hint: 'ship one executable (ELF, Mach-O, PE or #! script) and optionally one plugin spec YAML',
        },
      );
    }
    if (specs.length > 1) {
      throw new OptimusError(
        'PLUGIN_ARCHIVE_CONTENTS',
        `${source}: an archive may hold one plugin spec, found ${specs.length} (${specs.join(', ')})`,
        {
          category: 'invalid',
        },
      );
    }
    executable = join(unpackDir, executables[0]!);
    // Hashed while it was unpacked, when the archive allows it; read back otherwise.
    exeSha =
      (unpacked ? download.fileHashes?.get(executables[0]!) : undefined) ?? (await sha256File(executable));
    if (specs[0]) {
      specText = await readFile(join(unpackDir, specs[0]), 'utf8');
      specLabel = `${source}!${specs[0]}`;
    }
  }
  const exeTarget = join(out, entry.name);
  await rename(executable, exeTarget);
  await chmod(exeTarget, 0o755);
  const hs = await handshake(exeTarget, {
    label: `${entry.name} (${source})`,
    ...(opts.handshakeTimeoutMs !== undefined ? { timeoutMs: opts.handshakeTimeoutMs } : {}),
  });
  if (hs.plugin.name !== entry.name) {
    warnings.push(
      `${entry.name}: the plugin calls itself "${hs.plugin.name}"; it is installed as "${entry.name}" (the configured name)`,
    );
  }
  files.set(entry.name, { path: exeTarget, sha256: exeSha });
  if (specText !== undefined) {
    const spec = await stageSpec(
      entry.name,
      specText,
      specLabel,
      hs.plugin.name !== entry.name ? [] : warnings,
    );
    const target = join(out, specFileName(entry.name));
    await writeFile(target, spec.text);
    files.set(specFileName(entry.name), { path: target, sha256: sha256Of(spec.text) });
  }
  return { files, warnings, kind: 'binary', version: hs.plugin.version, dialect: hs.plugin.dialect };
}

/** Validate a spec with the spec layer; the stored copy carries the configured name. */
async function stageSpec(
  name: string,
  text: string,
  label: string,
  warnings: string[],
): Promise<{ text: string; version: string; dialect: string }> {
  const loaded = loadPluginSpec(text, label);
  if (!loaded.plugin) {
    const errs = errorsOf(loaded.problems)
      .slice(0, 5)
      .map((p) => `${p.line ? `line ${p.line}: ` : ''}${p.path ? `${p.path}: ` : ''}${p.message}`);
    throw new OptimusError(
      'PLUGIN_SPEC_INVALID',
      `${label}: not a valid plugin spec: ${errs.join('; ') || 'unknown error'}`,
      {
        category: 'invalid',
        hint: 'check it with `optimus plugin validate <file>`',
      },
    );
  }
  let out = text;
  if (loaded.plugin.name !== name) {
    warnings.push(
      `${name}: the spec calls the plugin "${loaded.plugin.name}"; it is installed as "${name}" (the configured name)`,
    );
    const doc = parseDocument(text);
    doc.set('name', name);
    out = doc.toString();
  }
  return { text: out, version: loaded.plugin.version, dialect: loaded.plugin.dialect };
}

function sha256Of(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
