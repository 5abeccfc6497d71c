/**
 * The artifact `optimus plugin install` takes, made from a plugin project (`optimus plugin pack`):
 *
 *   yaml kind    <out>/<name>-<tag>.yaml: the spec file's bytes unchanged, once it validates
 *   binary kind  <out>/<name>-<tag>.tar.gz holding exactly one file, the executable `<name>` (0755),
 *                once its handshake answers a valid spec
 *
 * plus `<out>/index.yaml`, the listing an http provider serves (`optimus plugin available`), with
 * this artifact's entry replacing any earlier one of the same name and version.
 *
 * The tarball is reproducible: the same executable gives the same bytes on any machine (fixed mtime,
 * uid/gid 0, no user or group names, gzip without a timestamp by fflate rather than the platform's
 * zlib), so the sha256 a team pins in plugins.list can be checked by rebuilding. Everything is
 * written to a temp file beside its target and renamed, so a failed pack leaves earlier files whole.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { gzipSync } from 'fflate';
import { Header, Pax } from 'tar';
import { isMap, isSeq, parseDocument, stringify, type YAMLMap, type YAMLSeq } from 'yaml';
import { OptimusError } from '../core/errors.js';
import type { Plugin } from '../core/plugin.js';
import { errorsOf, type Problem } from '../core/problem.js';
import { buildPluginProject, loadProjectSpec, type PluginKind, type PluginProject } from './project.js';

export const INDEX_FILE = 'index.yaml';

/** What a provider-relative entry names as its provider until the author fills it in. */
export const PROVIDER_PLACEHOLDER = '<your provider>';

/** The mtime of the packed executable: fixed, so the bytes do not depend on when it was built. */
const FIXED_MTIME = new Date(Date.UTC(2000, 0, 1));

/** Characters a name or tag may have to become part of a file name. */
const FILE_PART = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;

export interface PackOptions {
  /** Where the artifact goes (default <dir>/dist). */
  out?: string;
  /** Where it will be uploaded: http(s)://, gs://, gcs://, s3://, file:// or a path. */
  url?: string;
  /** false: use dist/<name> as built. */
  build?: boolean;
  handshakeTimeoutMs?: number;
}

/** An item of optimus.yaml's plugins.list. */
export interface PluginListEntry {
  name: string;
  /** Set (to PROVIDER_PLACEHOLDER) when `url` is relative to a provider. */
  provider?: string;
  url: string;
  sha256: string;
}

export interface PackedArtifact {
  kind: PluginKind;
  name: string;
  /** plugin_versions.default's tag. */
  version: string;
  /** Absolute path of the artifact. */
  file: string;
  bytes: number;
  sha256: string;
  /** Absolute path of the index.yaml written. */
  index: string;
  entry: PluginListEntry;
  /** Warnings about the spec (errors stop the pack). */
  warnings: Problem[];
  /** When a build ran first. */
  build?: { executable: string; bytes: number; ms: number };
}

export type PackOutcome =
  | { ok: true; artifact: PackedArtifact }
  | { ok: false; file: string; problems: Problem[] };

/**
 * Packs a plugin project. An invalid spec (or one whose handshake answers an invalid spec) is an
 * outcome with its problems, and nothing is written; a build or handshake failure throws.
 */
export async function packPluginProject(p: PluginProject, opts: PackOptions = {}): Promise<PackOutcome> {
  // Bad usage is reported before anything slow runs.
  const base = opts.url === undefined ? undefined : checkBaseUrl(opts.url);
  const built = await buildPluginProject(p, opts.build === false ? { build: false } : {});
  const loaded = await loadProjectSpec(
    p,
    opts.handshakeTimeoutMs ? { handshakeTimeoutMs: opts.handshakeTimeoutMs } : {},
  );
  if (loaded.handshake && 'error' in loaded.handshake) throw loaded.handshake.error;
  if (!loaded.plugin || errorsOf(loaded.problems).length) {
    return { ok: false, file: loaded.file, problems: loaded.problems };
  }
  const plugin = loaded.plugin;
  const name = filePart(plugin.name, 'name', loaded.file);
  const version = filePart(defaultTag(plugin), 'plugin_versions.default.tag', loaded.file);

  let content: Uint8Array;
  let fileName: string;
  if (p.kind === 'yaml') {
    content = await readFile(p.specFile!);
    fileName = `${name}-${version}.yaml`;
  } else {
    content = tarGzOne(name, await readFile(built.executable ?? p.executable!));
    fileName = `${name}-${version}.tar.gz`;
  }
  const sha256 = createHash('sha256').update(content).digest('hex');
  const outDir = resolve(opts.out ?? join(p.dir, 'dist'));
  const file = join(outDir, fileName);
  const index = join(outDir, INDEX_FILE);

  // The index is read (and refused when broken) before the artifact is written: all or nothing.
  const indexText = indexWith(index, {
    name,
    url: fileName,
    version,
    sha256,
    size: content.byteLength,
    ...(plugin.description ? { description: plugin.description } : {}),
  });
  await writeAtomic(file, content);
  await writeAtomic(index, indexText);

  const entry: PluginListEntry = base
    ? { name, url: joinUrl(base, fileName), sha256 }
    : { name, provider: PROVIDER_PLACEHOLDER, url: fileName, sha256 };
  return {
    ok: true,
    artifact: {
      kind: p.kind,
      name,
      version,
      file,
      bytes: content.byteLength,
      sha256,
      index,
      entry,
      warnings: loaded.problems,
      ...(built.built && built.executable
        ? { build: { executable: built.executable, bytes: built.bytes ?? 0, ms: built.ms ?? 0 } }
        : {}),
    },
  };
}

function defaultTag(plugin: Plugin): string {
  return plugin.versions.default?.tag ?? plugin.version;
}

/** A name or tag used in the artifact's file name: nothing that could leave `out` or need quoting. */
function filePart(value: string, field: string, file: string): string {
  if (FILE_PART.test(value) && !value.includes('..')) return value;
  throw new OptimusError(
    'PLUGIN_PACK_NAME_INVALID',
    `${shown(file)}: ${field} "${value}" cannot name a file`,
    {
      category: 'invalid',
      hint: `use letters, digits, ".", "_", "+" and "-" in ${field} (e.g. 0.1.0)`,
    },
  );
}

/**
 * A gzipped tar holding one regular file `name`, mode 0755, owned by 0:0 with no user or group
 * names and a fixed mtime: the same bytes in, the same bytes out.
 */
export function tarGzOne(name: string, data: Uint8Array): Uint8Array {
  const header = {
    path: name,
    mode: 0o755,
    uid: 0,
    gid: 0,
    size: data.byteLength,
    mtime: FIXED_MTIME,
    type: 'File' as const,
    uname: '',
    gname: '',
  };
  const blocks: Buffer[] = [];
  const block = Buffer.alloc(512);
  if (new Header(header).encode(block)) {
    // A name past 100 bytes goes in a PAX header; the plain header keeps a short form.
    blocks.push(new Pax(header).encode());
    new Header({ ...header, path: name.slice(0, 99) }).encode(block);
  }
  blocks.push(block, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  if (data.byteLength % 512) blocks.push(Buffer.alloc(512 - (data.byteLength % 512)));
  blocks.push(Buffer.alloc(1024));
  // mtime 0: no timestamp in the gzip header.
  return gzipSync(Buffer.concat(blocks), { level: 9, mtime: 0 });
}

const KNOWN_SCHEME = /^(https?|gs|gcs|s3|file):\/\//i;

/**
 * The --url base, checked: a scheme the installer reads (or a plain path), no credentials (they
 * belong in a provider's auth, and the entry is printed) and no query (the file name is appended).
 */
export function checkBaseUrl(base: string): string {
  const bad = (why: string, hint: string) =>
    new OptimusError('PLUGIN_PACK_URL_INVALID', `--url ${why}`, { category: 'usage', hint });
  if (!base.trim())
    throw bad('is empty', 'pass the folder the artifact will be uploaded to, e.g. https://host/plugins/');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(base);
  if (scheme && !KNOWN_SCHEME.test(base))
    throw bad(
      `uses the scheme ${scheme[1]}://, which plugin install cannot read`,
      'use http(s)://, gs://, s3://, file:// or a path',
    );
  if (scheme && /^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(base))
    throw bad(
      'holds credentials: they would be printed and pasted into optimus.yaml',
      'drop the user and password: an http provider takes them under auth (as environment variables)',
    );
  if (scheme && /[?#]/.test(base))
    throw bad(
      'holds a query or fragment',
      'pass the base folder only; the artifact file name is appended to it',
    );
  return base;
}

/** BASE + "/" + file name, whatever slashes BASE ends with. */
export function joinUrl(base: string, fileName: string): string {
  return `${base.replace(/\/+$/, '')}/${fileName}`;
}

interface IndexItem {
  name: string;
  url: string;
  version: string;
  sha256: string;
  size: number;
  description?: string;
}

/**
 * The text of `file` (an http provider's index.yaml) with `item` in place of any entry of the same
 * name and version, comments and other entries kept. Throws PLUGIN_INDEX_INVALID for a file that is
 * not such an index, rather than overwriting it.
 */
export function indexWith(file: string, item: IndexItem): string {
  const invalid = (why: string) =>
    new OptimusError('PLUGIN_INDEX_INVALID', `${shown(file)}: ${why}`, {
      category: 'invalid',
      hint: `fix it or remove it (pack writes a new one): plugins: [{name, url, version, sha256}]; or pass --out <another folder>`,
    });
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const doc = parseDocument(text, { prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line;
    throw invalid(`${line ? `line ${line}: ` : ''}${first.message.split('\n')[0]}`);
  }
  if (doc.contents === null) {
    if (!text.trim()) {
      doc.commentBefore =
        ' Plugins offered by an http provider: `optimus plugin available` reads this file at its base url.\n' +
        ' Written by `optimus plugin pack`; urls are relative to this file.';
    }
    doc.contents = doc.createNode({ plugins: [] }) as unknown as typeof doc.contents;
  }
  if (!isMap(doc.contents)) throw invalid('expected a mapping with a "plugins" list');
  const map = doc.contents as YAMLMap;
  if (!map.has('plugins') || map.get('plugins') === null) map.set('plugins', doc.createNode([]));
  const list = map.get('plugins');
  if (!isSeq(list)) throw invalid('"plugins" is not a list');
  const seq = list as YAMLSeq;

  const node = doc.createNode(item, { flow: true });
  let at = -1;
  for (let i = seq.items.length - 1; i >= 0; i--) {
    const it = seq.items[i];
    if (!isMap(it)) continue;
    const sameName = String(it.get('name')) === item.name;
    const sameVersion = it.has('version') && String(it.get('version')) === item.version;
    if (sameName && sameVersion) {
      seq.items.splice(i, 1);
      at = i;
    }
  }
  if (at < 0) seq.items.push(node);
  else seq.items.splice(at, 0, node);
  // A list written in flow style stays readable only as a block of one-line items.
  seq.flow = false;
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** The plugins.list item as one line of YAML, to paste. */
export function entryLine(entry: PluginListEntry): string {
  return `- ${stringify(entry, { collectionStyle: 'flow', lineWidth: 0, flowCollectionPadding: false }).trim()}`;
}

/** Temp file beside the target (same filesystem), then rename: never a half-written artifact. */
async function writeAtomic(file: string, content: Uint8Array | string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content, { mode: 0o644 });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** A path as the user reads it: relative to cwd when inside it, else absolute. */
function shown(path: string): string {
  const cwd = process.cwd();
  return path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;
}
