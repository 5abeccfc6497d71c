/**
 * What an artifact is (by its bytes, not its name) and safe extraction of archives. An archive may
 * hold anything, so extraction refuses `..` and absolute paths, links leading outside (or written
 * through), device files and FIFOs, two entries of one name, and stops at a maximum unpacked size
 * and entry count (zip and tar bombs). Every file is written by this module and tracked: a failed
 * extraction settles only once nothing writes into the destination any more, so the caller can
 * remove it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { link, mkdir, open, readdir, stat, symlink } from 'node:fs/promises';
import { dirname, join, posix, relative, sep } from 'node:path';
import { Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar';
import yauzl from 'yauzl';
import { OptimusError } from '../../core/errors.js';

export type ArtifactFormat = 'yaml' | 'executable' | 'tar.gz' | 'tar' | 'zip';

export interface ArchiveLimits {
  maxUnpackedBytes: number;
  maxEntries: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxUnpackedBytes: 1024 * 1024 * 1024,
  maxEntries: 10_000,
};

/** ELF, Mach-O (32/64-bit, both byte orders, universal), PE (MZ) or a `#!` script. */
export function isExecutableHead(head: Buffer): boolean {
  if (head.length < 2) return false;
  if (head[0] === 0x23 && head[1] === 0x21) return true; // #!
  if (head[0] === 0x4d && head[1] === 0x5a) return true; // MZ
  if (head.length < 4) return false;
  const m = head.readUInt32BE(0);
  return (
    m === 0x7f454c46 ||
    m === 0xfeedface ||
    m === 0xfeedfacf ||
    m === 0xcefaedfe ||
    m === 0xcffaedfe ||
    m === 0xcafebabe
  );
}

export async function readHead(file: string, n = 512): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Classify a downloaded artifact; `name` (its url) only breaks ties for text. */
export async function detectFormat(file: string, name: string): Promise<ArtifactFormat> {
  const head = await readHead(file);
  if (head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x504b0304) return 'zip';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x504b0506) return 'zip';
  if (head.length > 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  if (isExecutableHead(head)) return 'executable';
  const looksText = !head.includes(0);
  if (looksText && (/\.ya?ml(\?.*)?$/i.test(name) || head.length > 0)) return 'yaml';
  throw new OptimusError(
    'PLUGIN_ARTIFACT_UNKNOWN',
    `${name}: not a plugin spec, an executable (ELF, Mach-O, PE or #! script), a .zip or a .tar.gz`,
    { category: 'invalid' },
  );
}

export interface ExtractedFile {
  /** Relative to the extraction directory, with `/`. */
  path: string;
  size: number;
}

function unsafe(archive: string, message: string): OptimusError {
  return new OptimusError('PLUGIN_ARCHIVE_UNSAFE', `${archive}: ${message}`, {
    category: 'invalid',
    hint: 'the archive is refused as a whole; rebuild it with plain relative paths',
  });
}

function tooBig(archive: string, limits: ArchiveLimits, what: 'size' | 'entries'): OptimusError {
  return new OptimusError(
    'PLUGIN_ARCHIVE_TOO_LARGE',
    what === 'size'
      ? `${archive}: unpacks to more than ${limits.maxUnpackedBytes} bytes`
      : `${archive}: holds more than ${limits.maxEntries} entries`,
    { category: 'invalid', hint: 'a plugin archive holds one executable and optionally its spec' },
  );
}

function invalid(label: string, e: unknown): OptimusError {
  if (e instanceof OptimusError) return e;
  const err = e as NodeJS.ErrnoException;
  // A file system error names paths inside the temp directory, which mean nothing to a user.
  const why = err?.syscall ? `${err.code ?? 'error'} while writing an entry` : String(err?.message ?? e);
  return new OptimusError('PLUGIN_ARCHIVE_INVALID', `${label}: cannot unpack: ${why}`, {
    category: 'invalid',
    hint: 'check that the artifact is a well-formed .tar.gz or .zip',
  });
}

/**
 * A relative path that stays inside the extraction root, without `./` or a trailing `/` (`''` for
 * the root itself, as `tar -C dir .` writes it); or undefined.
 */
function safeRelative(p: string): string | undefined {
  if (p === '' || p.includes('\0') || p.includes('\\')) return undefined;
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return undefined;
  if (p.split('/').includes('..')) return undefined;
  const norm = posix.normalize(p).replace(/\/+$/, '');
  return norm === '.' ? '' : norm;
}

/**
 * Two names a case-insensitive or normalising file system would take for one file are one name:
 * an archive holding both could show a reviewer one content and install another.
 */
function fold(rel: string): string {
  return rel.normalize('NFC').toLowerCase();
}

/**
 * The checks every entry passes, in archive order, whatever the format: count, path, duplicate
 * names, links (never written through, never leading out), total size.
 */
export function createEntryGuard(label: string, limits: ArchiveLimits) {
  let entries = 0;
  let bytes = 0;
  const names = new Set<string>();
  const links = new Set<string>();
  const files = new Set<string>();
  return {
    /** The entry's path relative to the root; throws when the entry must not be unpacked. */
    admit(path: string, size: number): string {
      entries++;
      if (entries > limits.maxEntries) throw tooBig(label, limits, 'entries');
      const rel = safeRelative(path);
      if (rel === undefined)
        throw unsafe(label, `entry "${path}" leaves the archive (absolute path or "..")`);
      if (rel === '') return rel;
      const key = fold(rel);
      if (names.has(key)) {
        throw new OptimusError('PLUGIN_ARCHIVE_DUPLICATE', `${label}: holds "${rel}" more than once`, {
          category: 'invalid',
          hint: 'what a reviewer reads must be what runs: rebuild the archive with each path once (names differing only in case or Unicode form count as one)',
        });
      }
      names.add(key);
      const parts = rel.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (links.has(fold(dir)))
          throw unsafe(label, `entry "${path}" is written through the symbolic link "${dir}"`);
      }
      bytes += size;
      if (bytes > limits.maxUnpackedBytes) throw tooBig(label, limits, 'size');
      return rel;
    },
    file(rel: string): void {
      files.add(fold(rel));
    },
    /** A symbolic link `rel` → `target`, resolved from the link's own folder as the file system will. */
    symlink(rel: string, target: string): void {
      const outside = () => unsafe(label, `link "${rel}" points outside the archive (${target})`);
      if (target === '' || target.startsWith('/') || target.includes('\0')) throw outside();
      const at = rel.split('/').slice(0, -1);
      for (const seg of target.split('/')) {
        if (seg === '' || seg === '.') continue;
        if (seg === '..') {
          if (at.length === 0) throw outside();
          at.pop();
          continue;
        }
        at.push(seg);
        if (links.has(fold(at.join('/'))))
          throw unsafe(label, `link "${rel}" points through another link (${target})`);
      }
      links.add(fold(rel));
    },
    /** A hard link: its target is a path from the root, and must be a file unpacked before it. */
    hardlink(rel: string, target: string): string {
      const to = safeRelative(target);
      if (to === undefined || !files.has(fold(to)))
        throw unsafe(label, `link "${rel}" points outside the archive or to no file before it (${target})`);
      files.add(fold(rel));
      return to;
    },
  };
}

export async function extractArchive(
  file: string,
  format: 'tar.gz' | 'tar' | 'zip',
  dest: string,
  label: string,
  limits: ArchiveLimits,
): Promise<void> {
  await mkdir(dest, { recursive: true });
  if (format === 'zip') await extractZip(file, dest, label, limits);
  else await extractTar(file, dest, label, limits);
}

interface TarExtraction {
  /** Where the (uncompressed or gzip) tar bytes go. */
  parser: tar.Parser;
  /** The first reason extraction stopped, if it did. */
  failure(): OptimusError | undefined;
  /** Stop: nothing more is written (what is being written is abandoned). */
  fail(e: unknown): void;
  /**
   * Settles once the archive ended or failed and no write into `dest` is pending. Resolves with the
   * sha256 of each unpacked file by relative path (undefined when the archive holds links, whose
   * files have no bytes of their own).
   */
  done: Promise<ReadonlyMap<string, string> | undefined>;
}

/**
 * A tar unpacker built on node-tar's parser, writing every entry itself so that it knows when the
 * last write is over, and hashing each file as it is written (nothing is read back to be hashed).
 */
function tarExtractor(dest: string, label: string, limits: ArchiveLimits): TarExtraction {
  const parser = new tar.Parser({ strict: true });
  const guard = createEntryGuard(label, limits);
  const hashes = new Map<string, string>();
  const reading = new Set<tar.ReadEntry>();
  /** Each regular file by relative path, once written: a hard link to it waits for that. */
  const written = new Map<string, Promise<void>>();
  let hasLinks = false;
  let pending = 0;
  let ended = false;
  let failure: OptimusError | undefined;
  let settle: () => void = () => {};
  const done = new Promise<ReadonlyMap<string, string> | undefined>((resolvePromise, reject) => {
    settle = () => {
      if (pending > 0 || !(ended || failure)) return;
      if (failure) reject(failure);
      else resolvePromise(hasLinks ? undefined : hashes);
    };
  });
  // Handled through `failure`; a rejection nobody awaits must not end the process.
  done.catch(() => {});
  const fail = (e: unknown) => {
    if (failure) return;
    failure = invalid(label, e);
    for (const entry of reading) entry.destroy();
    parser.abort(failure);
    settle();
  };
  const track = (work: Promise<void>) => {
    pending++;
    work.catch(fail).finally(() => {
      pending--;
      settle();
    });
  };
  parser.on('error', fail);
  parser.on('end', () => {
    ended = true;
    settle();
  });
  parser.on('entry', (entry: tar.ReadEntry) => {
    if (failure) {
      entry.resume();
      return;
    }
    try {
      const kind = entryKind(entry.type);
      if (kind === 'special') throw unsafe(label, `entry "${entry.path}" is a device file or FIFO`);
      if (kind === 'unsupported')
        throw unsafe(label, `entry "${entry.path}" has an unsupported type (${entry.type})`);
      const rel = guard.admit(entry.path, kind === 'file' ? (entry.size ?? 0) : 0);
      if (rel === '' && kind !== 'dir') throw unsafe(label, `entry "${entry.path}" is not a directory`);
      const target = join(dest, rel);
      if (kind === 'file') {
        guard.file(rel);
        reading.add(entry);
        const writing = writeEntry(entry, target, rel, entry.mode ?? 0o644, hashes).finally(() =>
          reading.delete(entry),
        );
        written.set(rel, writing);
        track(writing);
        return;
      }
      entry.resume();
      if (kind === 'dir') track(mkdir(target, { recursive: true }).then(() => undefined));
      else if (kind === 'symlink') {
        const to = entry.linkpath ?? '';
        guard.symlink(rel, to);
        hasLinks = true;
        track(mkdir(dirname(target), { recursive: true }).then(() => symlink(to, target)));
      } else {
        const to = guard.hardlink(rel, entry.linkpath ?? '');
        hasLinks = true;
        track(
          Promise.all([written.get(to), mkdir(dirname(target), { recursive: true })]).then(() =>
            link(join(dest, to), target),
          ),
        );
      }
    } catch (e) {
      entry.resume();
      fail(e);
    }
  });
  return { parser, failure: () => failure, fail, done };
}

function entryKind(type: string): 'file' | 'dir' | 'symlink' | 'hardlink' | 'special' | 'unsupported' {
  switch (type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
      return 'file';
    case 'Directory':
      return 'dir';
    case 'SymbolicLink':
      return 'symlink';
    case 'Link':
      return 'hardlink';
    case 'CharacterDevice':
    case 'BlockDevice':
    case 'FIFO':
      return 'special';
    default:
      // pax/gnu metadata headers are consumed by the parser and never reach here.
      return 'unsupported';
  }
}

/** Write one entry's bytes to a new file (never through an existing one), hashing them on the way. */
async function writeEntry(
  entry: AsyncIterable<Buffer | Uint8Array>,
  target: string,
  rel: string,
  mode: number,
  hashes: Map<string, string>,
): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const fh = await open(target, 'wx', (mode & 0o777) | 0o600);
  const hash = createHash('sha256');
  try {
    for await (const chunk of entry) {
      hash.update(chunk);
      await fh.write(chunk);
    }
  } finally {
    await fh.close();
  }
  hashes.set(rel, hash.digest('hex'));
}

async function extractTar(file: string, dest: string, label: string, limits: ArchiveLimits): Promise<void> {
  const input = createReadStream(file);
  const x = tarExtractor(dest, label, limits);
  input.on('error', x.fail);
  input.pipe(x.parser as unknown as Writable);
  try {
    await x.done;
  } finally {
    input.destroy();
  }
}

/**
 * Where a download goes: a gzip stream is unpacked while it arrives (its checksum is verified
 * before anything leaves the temp directory, so nothing unverified is ever installed), anything
 * else is written to `file` for the next step. Saves writing and re-reading every archive.
 */
export class ArtifactSink extends Writable {
  /** Set once the first bytes arrived. */
  streamed: 'tar' | 'file' | undefined;
  /** What the bytes are written to. */
  private target: Writable | undefined;
  private tar: TarExtraction | undefined;
  private fileClosed: Promise<void> | undefined;
  private hashes: ReadonlyMap<string, string> | undefined;
  private targetError: Error | undefined;

  /** sha256 of each unpacked file by relative path, once finished; undefined when unknown (see tarExtractor). */
  get fileHashes(): ReadonlyMap<string, string> | undefined {
    return this.hashes;
  }

  constructor(
    private readonly file: string,
    private readonly unpackDir: string,
    private readonly label: string,
    private readonly limits: ArchiveLimits,
  ) {
    super();
  }

  private open(first: Buffer): Writable {
    if (first[0] === 0x1f && first[1] === 0x8b) {
      mkdirSync(this.unpackDir, { recursive: true });
      const x = tarExtractor(this.unpackDir, this.label, this.limits);
      this.tar = x;
      this.streamed = 'tar';
      // zlib's stream inflates on the thread pool (node-tar's own gunzip runs on the main thread), and
      // large chunks mean fewer, larger file writes.
      const gunzip = createGunzip({ chunkSize: 256 * 1024 });
      gunzip.on('error', x.fail);
      gunzip.pipe(x.parser as unknown as Writable);
      this.target = gunzip;
    } else {
      this.streamed = 'file';
      const out = createWriteStream(this.file);
      this.target = out;
      this.fileClosed = new Promise((resolvePromise) => out.once('close', () => resolvePromise()));
      out.on('error', (e) => {
        this.targetError ??= e;
      });
    }
    return this.target;
  }

  private problem(): Error | null {
    return this.tar?.failure() ?? this.targetError ?? null;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const target = this.target ?? this.open(chunk);
    const problem = this.problem();
    if (problem) {
      cb(problem);
      return;
    }
    if (target.write(chunk)) {
      cb(this.problem());
      return;
    }
    // A failed extractor (or file) never drains: answer on whichever comes first.
    let answered = false;
    const answer = () => {
      if (answered) return;
      answered = true;
      target.off('drain', answer);
      cb(this.problem());
    };
    target.once('drain', answer);
    (this.tar?.done ?? this.fileClosed)?.then(answer, answer);
  }

  override _final(cb: (e?: Error | null) => void): void {
    const target = this.target ?? this.open(Buffer.alloc(0));
    target.end();
    const x = this.tar;
    if (x) {
      x.done.then(
        (hashes) => {
          this.hashes = hashes;
          cb();
        },
        (e: Error) => cb(e),
      );
    } else void this.fileClosed!.then(() => cb(this.problem()));
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (!err) {
      cb(null);
      return;
    }
    // Nothing may write into the temp directory once the caller goes on to remove it.
    this.target?.destroy();
    const x = this.tar;
    if (x) {
      x.fail(err);
      x.done.then(
        () => cb(err),
        () => cb(err),
      );
    } else if (this.fileClosed) void this.fileClosed.then(() => cb(err));
    else cb(err);
  }
}

function extractZip(file: string, dest: string, label: string, limits: ArchiveLimits): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    yauzl.open(
      file,
      { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, autoClose: true },
      (err, zip) => {
        if (err || !zip) {
          reject(zipError(label, err));
          return;
        }
        if (zip.entryCount > limits.maxEntries) {
          zip.close();
          reject(tooBig(label, limits, 'entries'));
          return;
        }
        const guard = createEntryGuard(label, limits);
        let done = false;
        const finish = (e?: unknown) => {
          if (done) return;
          done = true;
          if (e) {
            zip.close();
            reject(e instanceof OptimusError ? e : zipError(label, e as Error));
          } else resolvePromise();
        };
        zip.on('error', (e) => finish(e));
        zip.on('end', () => finish());
        zip.on('entry', (entry: yauzl.Entry) => {
          const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
          const type = mode & 0o170000;
          const isDir = entry.fileName.endsWith('/');
          let rel: string;
          try {
            rel = guard.admit(entry.fileName, isDir ? 0 : entry.uncompressedSize);
          } catch (e) {
            finish(e);
            return;
          }
          if (rel === '' && !isDir)
            return finish(unsafe(label, `entry "${entry.fileName}" is not a directory`));
          if (type === 0o120000) return finish(unsafe(label, `entry "${entry.fileName}" is a symbolic link`));
          if (type === 0o020000 || type === 0o060000 || type === 0o010000 || type === 0o140000) {
            return finish(unsafe(label, `entry "${entry.fileName}" is a device file, FIFO or socket`));
          }
          const target = join(dest, rel);
          if (isDir) {
            mkdir(target, { recursive: true }).then(() => zip.readEntry(), finish);
            return;
          }
          guard.file(rel);
          zip.openReadStream(entry, (e, stream) => {
            if (e || !stream) return finish(e);
            writeEntry(stream, target, rel, mode, new Map()).then(() => zip.readEntry(), finish);
          });
        });
        zip.readEntry();
      },
    );
  });
}

function zipError(label: string, e: Error | null | undefined): OptimusError {
  const msg = e?.message ?? 'unknown error';
  if (/absolute path|invalid relative path|invalid characters/i.test(msg)) return unsafe(label, msg);
  return invalid(label, e ?? msg);
}

/** Regular files under `dir` (links and directories left out), relative paths with `/`. */
export async function listFiles(dir: string): Promise<ExtractedFile[]> {
  const out: ExtractedFile[] = [];
  const walk = async (d: string) => {
    for (const ent of await readdir(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) await walk(p);
      else if (ent.isFile())
        out.push({ path: relative(dir, p).split(sep).join('/'), size: (await stat(p)).size });
    }
  };
  await walk(dir);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
