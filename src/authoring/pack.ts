/**
 * The artifact `optimus plugin install` takes, made from a plugin project (`optimus plugin pack`):
 *
 *   yaml kind    <out>/<name>-<tag>.yaml: the spec file's bytes unchanged, once it validates
 *   binary kind  <out>/<name>-<tag>.tar.gz holding exactly one file, the executable `<name>` (0755),
 *                once its handshake answers a valid spec
 *
 * plus `<out>/index.yaml`, the listing an http provider serves (`optimus plugin available`), with
 * this artifact's entry beside the others. A name and tag, once packed, stand for those bytes: packing
 * different bytes under them is refused (a released version must not change under the teams that pinned
 * its sha256) unless --force says to replace it; packing the same bytes again is a no-op.
 *
 * The tarball is reproducible: the same executable gives the same bytes on any machine (fixed mtime,
 * uid/gid 0, no user or group names, gzip without a timestamp by fflate rather than the platform's
 * zlib), so the sha256 a team pins in plugins.list can be checked by rebuilding. Everything is
 * checked (the out folder, the index, an earlier artifact) before anything is written, then written to
 * a temp file beside its target and renamed, so a failed pack leaves earlier files whole.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, readFileSync, statSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { gzipSync } from 'fflate';
import { Header, Pax } from 'tar';
import { isMap, isSeq, parseDocument, stringify, type YAMLMap, type YAMLSeq } from 'yaml';
import { OptimusError } from '../core/errors.js';
import { ioMessage } from '../core/io-message.js';
import type { Plugin } from '../core/plugin.js';
import { errorsOf, type Problem } from '../core/problem.js';
import {
  buildPluginProject,
  loadProjectSpec,
  makeFolders,
  type PluginKind,
  type PluginProject,
  shown,
} from './project.js';

export const INDEX_FILE = 'index.yaml';

/** What a provider-relative entry names as its provider until the author fills it in. */
export const PROVIDER_PLACEHOLDER = '<your provider>';

/** The mtime of the packed executable: fixed, so the bytes do not depend on when it was built. */
const FIXED_MTIME = new Date(Date.UTC(2000, 0, 1));

/** Characters a name or tag may have to become part of a file name. */
const FILE_PART = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;

/**
 * The longest name or tag: `<name>-<tag>.tar.gz` and its temp file (`.<file>.<12 hex>.tmp`) stay
 * well under the 255 bytes a file name may have.
 */
export const FILE_PART_MAX = 100;

/**
 * Why `value` cannot be a name or tag in an artifact's file name (undefined when it can): nothing that
 * could leave the out folder, need quoting or be too long. `plugin init` applies the same rule to
 * names, so a name it accepts can always be packed.
 */
export function filePartProblem(value: string): string | undefined {
  if (!FILE_PART.test(value))
    return 'may contain only letters, digits, ".", "_", "+" and "-" and must start with a letter or digit';
  if (value.includes('..')) return 'may not contain ".."';
  if (value.length > FILE_PART_MAX)
    return `is ${value.length} characters long, at most ${FILE_PART_MAX} are allowed`;
  return undefined;
}

export interface PackOptions {
  /** Where the artifact goes (default <dir>/dist). */
  out?: string;
  /** Where it will be uploaded: http(s)://, gs://, gcs://, s3://, file:// or a path. */
  url?: string;
  /** false: use dist/<name> as built. */
  build?: boolean;
  /** Replace an artifact of the same name and tag whose bytes differ (refused otherwise). */
  force?: boolean;
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
  /** What became of an artifact already there under the same name and tag. */
  previous?: 'same' | 'replaced';
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
  const outDir = resolve(opts.out ?? join(p.dir, 'dist'));
  const outFlag = opts.out === undefined ? undefined : opts.out;
  checkOutDir(outDir, outFlag);
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
  const file = join(outDir, fileName);
  const index = join(outDir, INDEX_FILE);

  // Everything is checked before anything is written: all or nothing.
  const previous = earlierArtifact(file, outFlag);
  const updated = indexUpdate(index, {
    name,
    url: fileName,
    version,
    sha256,
    size: content.byteLength,
    ...(plugin.description ? { description: plugin.description } : {}),
  });
  const differs = [previous, updated.previous].find((x) => x !== undefined && x !== sha256);
  if (differs !== undefined && !opts.force)
    throw new OptimusError(
      'PLUGIN_ARTIFACT_EXISTS',
      `${shown(previous !== undefined && previous !== sha256 ? file : index)} already holds ${name} ${version} with sha256 ${differs}; this pack's bytes have sha256 ${sha256}`,
      {
        category: 'conflict',
        hint: `a released version's bytes must not change (teams pin its sha256): bump plugin_versions.default.tag in ${shown(loaded.file)}, or pass --force to replace it`,
      },
    );
  makeOutFolders(outDir, outFlag);
  if (previous !== sha256) await writeAtomic(file, content, outFlag);
  await writeAtomic(index, updated.text, outFlag);

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
      ...(differs !== undefined
        ? { previous: 'replaced' as const }
        : previous === sha256
          ? { previous: 'same' as const }
          : {}),
      entry,
      warnings: loaded.problems,
      ...(built.built && built.executable
        ? { build: { executable: built.executable, bytes: built.bytes ?? 0, ms: built.ms ?? 0 } }
        : {}),
    },
  };
}

/** How the out folder is named in messages: the flag when it was given, else the default's path. */
function outName(outDir: string, flag: string | undefined): string {
  return flag === undefined ? shown(outDir) : `--out ${flag}`;
}

/**
 * The out folder, or its nearest existing ancestor, must be a folder; checked before the build so a
 * mistyped --out costs nothing. Creating it waits until everything else is checked.
 */
function checkOutDir(outDir: string, flag: string | undefined): void {
  let d = outDir;
  for (;;) {
    const kind = pathKind(d);
    if (kind === 'dir') return;
    if (kind === 'dangling')
      throw new OptimusError(
        'PLUGIN_PACK_OUT_INVALID',
        `${outName(outDir, flag)}: ${shown(d)} is a symbolic link to something that does not exist`,
        {
          category: flag === undefined ? 'conflict' : 'usage',
          hint: 'remove the link or make its target, or pass --out <another folder>',
        },
      );
    if (kind === 'other')
      throw new OptimusError(
        'PLUGIN_PACK_OUT_INVALID',
        d === outDir
          ? `${outName(outDir, flag)} is a file, not a folder`
          : `${outName(outDir, flag)}: ${shown(d)} is a file, so no folder can be made under it`,
        {
          category: flag === undefined ? 'conflict' : 'usage',
          hint: 'pass --out <folder> (made when missing) for the artifact and index.yaml',
        },
      );
    const up = dirname(d);
    if (up === d) return;
    d = up;
  }
}

/** absent, a folder (a link to one counts), a link to nothing, or anything else. */
function pathKind(path: string): 'absent' | 'dir' | 'dangling' | 'other' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'other';
  } catch (e) {
    // ENOTDIR: an ancestor is a file; the caller's walk up finds and names it.
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return 'absent';
    try {
      return lstatSync(path).isSymbolicLink() ? 'dangling' : 'absent';
    } catch {
      return 'absent';
    }
  }
}

/**
 * Makes `dir` and its missing ancestors one at a time (never `recursive: true`: Node's recursive
 * mkdir spins forever where mkdir answers ENOENT for an existing parent, as under /proc).
 */
function makeOutFolders(dir: string, flag: string | undefined): void {
  try {
    makeFolders(dir);
  } catch (e) {
    const d = (e as NodeJS.ErrnoException).path ?? dir;
    const code = (e as NodeJS.ErrnoException).code;
    // ENOENT for a parent that exists: a file system that takes no new folders (/proc, /sys).
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new OptimusError(
        'PLUGIN_PACK_WRITE_FAILED',
        `${outName(dir, flag)}: the folder ${shown(d)} cannot be made there (${code})`,
        {
          category: 'io',
          hint: 'pass --out <a folder on a normal, writable disk>; nothing was packed',
          cause: e,
        },
      );
    throw writeFailed(outName(dir, flag), `cannot make the folder ${shown(d)}`, e);
  }
}

function writeFailed(what: string, why: string, e: unknown): OptimusError {
  return new OptimusError('PLUGIN_PACK_WRITE_FAILED', `${what}: ${why} (${ioReason(e)})`, {
    category: 'io',
    hint: 'pass --out <a folder you can write to>; nothing was packed',
    cause: e,
  });
}

/** An fs error's reason without the path Node repeats in it: `ENOENT: no such file or directory`. */
function ioReason(e: unknown): string {
  return ioMessage(e).replace(/, \w+ '.*$/, '');
}

/**
 * The sha256 of an artifact already at `file` (undefined when there is none). A folder in its place
 * is refused: renaming onto it would fail half-way.
 */
function earlierArtifact(file: string, flag: string | undefined): string | undefined {
  const kind = pathKind(file);
  if (kind === 'absent') return undefined;
  if (kind !== 'other' || !statSafe(file)?.isFile())
    throw new OptimusError(
      'PLUGIN_PACK_OUT_INVALID',
      `${shown(file)} is ${kind === 'dangling' ? 'a symbolic link to nothing' : kind === 'dir' ? 'a folder' : 'not a regular file'}, and the artifact is written there`,
      {
        category: flag === undefined ? 'conflict' : 'usage',
        hint: `move it away, or pass --out <another folder>; nothing was packed`,
      },
    );
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch (e) {
    throw writeFailed(shown(file), 'cannot read the artifact already there', e);
  }
}

function statSafe(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function defaultTag(plugin: Plugin): string {
  return plugin.versions.default?.tag ?? plugin.version;
}

/** A name or tag used in the artifact's file name: nothing that could leave `out` or need quoting. */
function filePart(value: string, field: string, file: string): string {
  const why = filePartProblem(value);
  if (!why) return value;
  const isTag = field !== 'name';
  throw new OptimusError(
    'PLUGIN_PACK_NAME_INVALID',
    `${shown(file)}: ${field} ${JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}…` : value)} cannot name a file: it ${why}`,
    {
      category: 'invalid',
      hint: isTag
        ? `write the tag as a version, letters, digits, ".", "_", "+" and "-" (e.g. 0.1.0 or 1.2.0+build.5)`
        : `rename the plugin: letters, digits, ".", "_" and "-", no "..", at most ${FILE_PART_MAX} characters (e.g. warehouse-load)`,
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

/** Schemes `optimus plugin install` reads. */
const KNOWN_SCHEMES = ['http', 'https', 'gs', 'gcs', 's3', 'file'];

/**
 * The --url base, checked: a scheme the installer reads (or a plain path), no credentials (they
 * belong in a provider's auth, and the entry is printed), no query (the file name is appended) and
 * no spaces. Anything with a ":" before its first "/" is read as a URL, the way a URL parser (and
 * so the installer) reads it, so no spelling slips credentials or another scheme past the check.
 */
export function checkBaseUrl(base: string): string {
  const bad = (why: string, hint: string) =>
    new OptimusError('PLUGIN_PACK_URL_INVALID', `--url ${why}`, { category: 'usage', hint });
  const schemes = 'http(s)://, gs://, gcs://, s3://, file:// or a path';
  if (!base.trim())
    throw bad('is empty', 'pass the folder the artifact will be uploaded to, e.g. https://host/plugins/');
  if (base !== base.trim())
    throw bad('has spaces around it', 'pass it without the spaces (quote it whole in the shell)');
  if (/[\s\x00-\x1f\x7f]/.test(base))
    throw bad(
      'holds a space or control character',
      'write a space in a url as %20, or choose a location without one',
    );
  const credentials = () =>
    bad(
      'holds credentials: they would be printed and pasted into optimus.yaml',
      'drop the user and password: an http provider takes them under auth (as environment variables)',
    );
  const firstSlash = base.search(/[/\\]/);
  const head = firstSlash < 0 ? base : base.slice(0, firstSlash);
  if (!head.includes(':')) {
    // A path (or host/path): `user@host/...` is credentials written without a scheme.
    if (head.includes('@')) throw credentials();
    return base;
  }
  if (head.includes('@')) throw credentials();
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw bad('is not a url or a path', `use ${schemes}`);
  }
  if (url.username || url.password) throw credentials();
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (!KNOWN_SCHEMES.includes(scheme)) {
    const written = `${scheme}:${base.slice(scheme.length + 1).startsWith('//') ? '//' : ''}`;
    throw bad(`uses the scheme ${written}, which plugin install cannot read`, `use ${schemes}`);
  }
  if (url.search || url.hash || /[?#]/.test(base))
    throw bad(
      'holds a query or fragment',
      'pass the base folder only; the artifact file name is appended to it',
    );
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/\\]/i.test(base) && !(scheme === 'file' && /^file:\/\/\//i.test(base)))
    throw bad(`is not written as ${scheme}://<host>/<path>`, `use ${schemes}`);
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
  return indexUpdate(file, item).text;
}

/**
 * indexWith, and the sha256 the index listed for the same name and version (if it did). Only an
 * empty (or comments-only) file, or a mapping that has `plugins`, is an index: any other YAML is
 * someone else's file that happens to sit in the out folder, and is left alone.
 */
function indexUpdate(file: string, item: IndexItem): { text: string; previous?: string } {
  const invalid = (why: string) =>
    new OptimusError('PLUGIN_INDEX_INVALID', `${shown(file)}: ${why}`, {
      category: 'invalid',
      hint: `fix it or remove it (pack writes a new one): plugins: [{name, url, version, sha256}]; or pass --out <another folder>`,
    });
  const text = readIndexText(file, invalid);
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
  if (!map.has('plugins'))
    throw invalid('has no "plugins" list, so it is not an index pack writes (it was left as it is)');
  // `plugins:` with nothing after it reads as null (get answers undefined): an empty list.
  if (map.get('plugins') == null) map.set('plugins', doc.createNode([]));
  const list = map.get('plugins');
  if (!isSeq(list)) throw invalid('"plugins" is not a list');
  const seq = list as YAMLSeq;

  const node = doc.createNode(item, { flow: true });
  let at = -1;
  let previous: string | undefined;
  for (let i = seq.items.length - 1; i >= 0; i--) {
    const it = seq.items[i];
    if (!isMap(it)) continue;
    const sameName = String(it.get('name')) === item.name;
    const sameVersion = it.has('version') && String(it.get('version')) === item.version;
    if (sameName && sameVersion) {
      if (it.has('sha256') && previous === undefined) previous = String(it.get('sha256'));
      seq.items.splice(i, 1);
      at = i;
    }
  }
  if (at < 0) seq.items.push(node);
  else seq.items.splice(at, 0, node);
  // A list written in flow style stays readable only as a block of one-line items.
  seq.flow = false;
  const out = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  return previous === undefined ? { text: out } : { text: out, previous };
}

/** The index's text ('' when there is none); a folder or an unreadable file in its place is refused. */
function readIndexText(file: string, invalid: (why: string) => OptimusError): string {
  const kind = pathKind(file);
  if (kind === 'absent') return '';
  if (kind === 'dir') throw invalid('is a folder, not an index file');
  if (kind === 'dangling') throw invalid('is a symbolic link to something that does not exist');
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw writeFailed(shown(file), 'cannot read the index', e);
  }
}

/** The plugins.list item as one line of YAML, to paste. */
export function entryLine(entry: PluginListEntry): string {
  return `- ${stringify(entry, { collectionStyle: 'flow', lineWidth: 0, flowCollectionPadding: false }).trim()}`;
}

/** Temp file beside the target (same filesystem), then rename: never a half-written artifact. */
async function writeAtomic(
  file: string,
  content: Uint8Array | string,
  flag: string | undefined,
): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content, { mode: 0o644 });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw writeFailed(flag === undefined ? shown(file) : `--out ${flag}`, `cannot write ${shown(file)}`, e);
  }
}

/** A path as the user reads it: relative to cwd when inside it, else absolute. */
