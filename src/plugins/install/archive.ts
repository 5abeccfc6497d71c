/**
 * What an artifact is (by its bytes, not its name) and safe extraction of archives. An archive may
 * hold anything, so extraction refuses `..` and absolute paths, links leading outside, device files
 * and FIFOs, and stops at a maximum unpacked size and entry count (zip and tar bombs).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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

/** A relative path that stays inside the extraction root, or undefined. */
function safeRelative(p: string): string | undefined {
  if (p === '' || p.includes('\0')) return undefined;
  if (p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.includes('\\')) return undefined;
  const norm = posix.normalize(p);
  if (norm === '..' || norm.startsWith('../') || norm.split('/').includes('..')) return undefined;
  if (p.split('/').includes('..')) return undefined;
  return norm.replace(/^\.\/+/, '');
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

/**
 * A node-tar extractor with this module's guards; `failure()` says why it stopped, if it did.
 * With `hashing`, each regular file is hashed as it is written and `hashes()` gives the sha256 of
 * each extracted file by relative path, so nothing is read back to be hashed. It gives nothing when
 * the archive holds links or the same path twice, even differing only in case (a file's bytes could
 * then come from another entry).
 */
function tarExtractor(
  dest: string,
  label: string,
  limits: ArchiveLimits,
  onFail: (e: OptimusError) => void,
  hashing = false,
) {
  let entries = 0;
  let bytes = 0;
  let failure: OptimusError | undefined;
  const hashes = new Map<string, string>();
  const seen = new Set<string>();
  let hashable = hashing;
  const fail = (e: OptimusError): false => {
    if (!failure) {
      failure = e;
      onFail(e);
    }
    return false;
  };
  const stream = tar.x({
    cwd: dest,
    strict: true,
    preserveOwner: false,
    filter: (path, entry) => {
      if (failure) return false;
      const e = entry as tar.ReadEntry;
      if (++entries > limits.maxEntries) return fail(tooBig(label, limits, 'entries'));
      const rel = safeRelative(path);
      if (rel === undefined)
        return fail(unsafe(label, `entry "${path}" leaves the archive (absolute path or "..")`));
      switch (e.type) {
        case 'File':
        case 'OldFile':
        case 'ContiguousFile':
        case 'Directory':
          break;
        case 'SymbolicLink':
        case 'Link': {
          const target = e.linkpath ?? '';
          const resolved =
            e.type === 'Link'
              ? safeRelative(target)
              : isAbsolute(target)
                ? undefined
                : safeRelative(posix.join(posix.dirname(rel), target));
          if (resolved === undefined)
            return fail(unsafe(label, `link "${path}" points outside the archive (${target})`));
          break;
        }
        case 'CharacterDevice':
        case 'BlockDevice':
        case 'FIFO':
          return fail(unsafe(label, `entry "${path}" is a device file or FIFO`));
        default:
          // pax/gnu metadata headers are consumed by the parser and never reach here.
          return fail(unsafe(label, `entry "${path}" has an unsupported type (${e.type})`));
      }
      bytes += e.size ?? 0;
      if (bytes > limits.maxUnpackedBytes) return fail(tooBig(label, limits, 'size'));
      if (hashable) {
        // Folded, as a case-insensitive or normalising file system sees two such names as one file.
        const key = rel.normalize('NFC').toLowerCase();
        if (seen.has(key) || e.type === 'SymbolicLink' || e.type === 'Link') hashable = false;
        seen.add(key);
      }
      return true;
    },
    ...(hashing
      ? {
          // Only regular files reach this (node-tar calls it where it writes a file's bytes).
          transform: (entry: tar.ReadEntry) => {
            const rel = safeRelative(entry.path);
            if (!hashable || rel === undefined) return undefined;
            const hash = createHash('sha256');
            return new Transform({
              transform(chunk: Buffer, _enc, cb) {
                hash.update(chunk);
                cb(null, chunk);
              },
              flush(cb) {
                hashes.set(rel, hash.digest('hex'));
                cb();
              },
            }) as unknown as tar.ReadEntry;
          },
        }
      : {}),
  });
  return {
    stream,
    failure: () => failure,
    hashes: (): ReadonlyMap<string, string> | undefined => (hashable ? hashes : undefined),
  };
}

function tarError(label: string, e: unknown): OptimusError {
  return new OptimusError('PLUGIN_ARCHIVE_INVALID', `${label}: cannot unpack: ${(e as Error).message}`, {
    category: 'invalid',
  });
}

async function extractTar(file: string, dest: string, label: string, limits: ArchiveLimits): Promise<void> {
  const input = createReadStream(file);
  const x = tarExtractor(dest, label, limits, (e) => input.destroy(e));
  try {
    await pipeline(input, x.stream);
  } catch (e) {
    throw x.failure() ?? tarError(label, e);
  }
  const failure = x.failure();
  if (failure) throw failure;
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
  /** What to wait for at the end: the tar extractor (after gunzip) or the file. */
  private last: NodeJS.EventEmitter | undefined;
  private targetError: Error | undefined;
  private tarFailure: () => OptimusError | undefined = () => undefined;
  private tarHashes: () => ReadonlyMap<string, string> | undefined = () => undefined;

  /** sha256 of each unpacked file by relative path, once finished; undefined when unknown (see tarExtractor). */
  get fileHashes(): ReadonlyMap<string, string> | undefined {
    return this.streamed === 'tar' ? this.tarHashes() : undefined;
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
    const onError = (e: Error) => {
      this.targetError ??= e;
    };
    if (first[0] === 0x1f && first[1] === 0x8b) {
      mkdirSync(this.unpackDir, { recursive: true });
      const x = tarExtractor(this.unpackDir, this.label, this.limits, () => {}, true);
      this.tarFailure = x.failure;
      this.tarHashes = x.hashes;
      this.streamed = 'tar';
      // zlib's stream inflates on the thread pool (node-tar's own gunzip runs on the main thread), and
      // large chunks mean fewer, larger file writes.
      const gunzip = createGunzip({ chunkSize: 256 * 1024 });
      gunzip.on('error', onError);
      x.stream.on('error', onError);
      gunzip.pipe(x.stream as unknown as Writable);
      this.target = gunzip;
      this.last = x.stream;
    } else {
      this.streamed = 'file';
      this.target = createWriteStream(this.file);
      this.target.on('error', onError);
      this.last = this.target;
    }
    return this.target;
  }

  private problem(): Error | null {
    const f = this.tarFailure();
    if (f) return f;
    if (this.targetError)
      return this.streamed === 'tar' ? tarError(this.label, this.targetError) : this.targetError;
    return null;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const target = this.target ?? this.open(chunk);
    const problem = this.problem();
    if (problem) {
      cb(problem);
      return;
    }
    if (target.write(chunk)) cb(this.problem());
    else target.once('drain', () => cb(this.problem()));
  }

  override _final(cb: (e?: Error | null) => void): void {
    const target = this.target ?? this.open(Buffer.alloc(0));
    let called = false;
    const done = () => {
      if (called) return;
      called = true;
      cb(this.problem());
    };
    // node-tar's extractor emits 'finish' once every file is written; an fs stream 'close' once closed.
    this.last!.once(this.streamed === 'tar' ? 'finish' : 'close', done);
    this.last!.once('error', done);
    target.once('error', done);
    target.end();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    // node-tar's extractor is not a stream.Writable and has no destroy(); its files are in the
    // temp directory, which the installer removes.
    if (err) this.target?.destroy();
    cb(err);
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
        let bytes = 0;
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
          const rel = safeRelative(entry.fileName);
          if (rel === undefined)
            return finish(
              unsafe(label, `entry "${entry.fileName}" leaves the archive (absolute path or "..")`),
            );
          const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
          const type = mode & 0o170000;
          if (type === 0o120000) return finish(unsafe(label, `entry "${entry.fileName}" is a symbolic link`));
          if (type === 0o020000 || type === 0o060000 || type === 0o010000 || type === 0o140000) {
            return finish(unsafe(label, `entry "${entry.fileName}" is a device file, FIFO or socket`));
          }
          bytes += entry.uncompressedSize;
          if (bytes > limits.maxUnpackedBytes) return finish(tooBig(label, limits, 'size'));
          const target = join(dest, rel);
          if (entry.fileName.endsWith('/')) {
            mkdir(target, { recursive: true }).then(() => zip.readEntry(), finish);
            return;
          }
          zip.openReadStream(entry, (e, stream) => {
            if (e || !stream) return finish(e);
            mkdir(dirname(target), { recursive: true })
              .then(() => pipeline(stream, createWriteStream(target, { mode: (mode & 0o777) | 0o600 })))
              .then(() => zip.readEntry(), finish);
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
  return new OptimusError('PLUGIN_ARCHIVE_INVALID', `${label}: cannot unpack: ${msg}`, {
    category: 'invalid',
  });
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
