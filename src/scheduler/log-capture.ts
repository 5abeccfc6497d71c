/**
 * Turns a node's raw output into stored log lines: split into lines (per stream, UTF-8 safe across
 * chunks), stamped with the time they arrived, every secret value masked as `****`, written to the
 * store in batches. One attempt keeps at most `maxBytes` of output: a node printing megabytes per
 * second must not fill the store or the server's memory, so past the cap the rest is only counted
 * (the pipe is still drained, so the node never blocks on a full pipe) and one line says how much
 * was dropped. Very long lines are split so no single stored line is unbounded.
 */
import { StringDecoder } from 'node:string_decoder';
import type { LogLineInput, LogStream } from '../store/run-store.js';

export const MASK = '****';
export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_LINE_CHARS = 16 * 1024;

export interface LogCaptureOptions {
  runId: number;
  node: string;
  attempt: number;
  /** Values to mask wherever they appear. */
  secrets: readonly string[];
  /** Stores one batch; batches are written one at a time, in order. */
  write(lines: LogLineInput[]): Promise<void>;
  /** Told when a batch could not be stored (the capture goes on). */
  onWriteError?(error: unknown): void;
  maxBytes?: number;
  maxLineChars?: number;
  /** Write a batch this long after its first line arrived… */
  flushMs?: number;
  /** …or as soon as it has this many lines. */
  flushLines?: number;
  now?: () => Date;
}

export interface LogCapture {
  output(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  /** A line from the runner itself (attempt started, exit code, why it failed). Never dropped. */
  system(line: string): void;
  /**
   * The node's output is over: stores what is left of unfinished lines and, when output was
   * dropped, the line saying how much (before the runner's own last words).
   */
  endOutput(): void;
  /** Ends output if not yet done, then waits until everything is stored. */
  close(): Promise<{ storedBytes: number; droppedBytes: number }>;
}

/**
 * What to mask: each secret value, and each line of 4 or more characters of a multi-line secret
 * (output is masked line by line, so a multi-line value never appears whole in one line).
 */
export function secretMasker(secrets: readonly string[]): {
  mask(text: string): string;
  longest: number;
  needles: readonly string[];
} {
  const needles = new Set<string>();
  for (const value of secrets) {
    if (!value) continue;
    if (/[\r\n]/.test(value)) {
      for (const line of value.split(/\r?\n|\r/)) if (line.length >= 4) needles.add(line);
    } else {
      needles.add(value);
    }
  }
  if (needles.size === 0) return { mask: (text) => text, longest: 0, needles: [] };
  // Longest first, so a secret containing another is masked whole.
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(sorted.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return { mask: (text) => text.replace(pattern, MASK), longest: sorted[0]!.length, needles: sorted };
}

export function createLogCapture(opts: LogCaptureOptions): LogCapture {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxLine = opts.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
  const flushMs = opts.flushMs ?? 200;
  const flushLines = opts.flushLines ?? 1000;
  const now = opts.now ?? (() => new Date());
  const { mask, longest, needles } = secretMasker(opts.secrets);
  // A long line is cut only where no secret can straddle the cut (see cutLongLine).
  const keep = Math.max(0, longest - 1);

  const streams = {
    stdout: { decoder: new StringDecoder('utf8'), partial: '' },
    stderr: { decoder: new StringDecoder('utf8'), partial: '' },
  };
  let stored = 0;
  let dropped = 0;
  let pending: LogLineInput[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let ended = false;

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    writing = writing.then(() => opts.write(batch)).catch((e) => opts.onWriteError?.(e));
  };

  const push = (stream: LogStream, line: string, at: Date) => {
    pending.push({ runId: opts.runId, node: opts.node, attempt: opts.attempt, stream, at, line });
    if (pending.length >= flushLines) flush();
    else timer ??= setTimeout(flush, flushMs);
  };

  const store = (stream: 'stdout' | 'stderr', line: string, at: Date) => {
    const bytes = Buffer.byteLength(line) + 1;
    if (dropped > 0 || stored + bytes > maxBytes) {
      dropped += bytes;
      return;
    }
    stored += bytes;
    push(stream, line, at);
  };

  /** One complete line: masked whole, then stored in pieces of at most `maxLine` characters. */
  const emit = (stream: 'stdout' | 'stderr', raw: string, at: Date) => {
    const line = mask(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    // Stryker disable next-line EqualityOperator: a line of exactly maxLine characters is one piece either way
    if (line.length <= maxLine) return store(stream, line, at);
    for (let i = 0; i < line.length; i += maxLine) store(stream, line.slice(i, i + maxLine), at);
  };

  /**
   * Emits the front of an over-long partial line, masked, in pieces of at most `maxLine`
   * characters. What stays behind is kept as it was printed (unmasked, so a secret that has begun
   * there is recognised whole when the rest arrives): at least `keep` characters, which hold any
   * secret not yet complete. The cut never falls inside a secret: it moves past a whole one.
   */
  const cutLongLine = (stream: 'stdout' | 'stderr', at: Date) => {
    const s = streams[stream];
    const raw = s.partial;
    if (raw.length < maxLine + keep) return;
    let cut = Math.floor((raw.length - keep) / maxLine) * maxLine;
    for (let moved = true; moved; ) {
      moved = false;
      for (const needle of needles) {
        const from = Math.max(0, cut - needle.length + 1);
        for (let i = raw.indexOf(needle, from); i >= 0 && i < cut; i = raw.indexOf(needle, i + 1)) {
          if (i + needle.length > cut) {
            cut = i + needle.length;
            moved = true;
          }
        }
      }
    }
    let text = mask(raw.slice(0, cut));
    while (text.length > 0) {
      store(stream, text.slice(0, maxLine), at);
      text = text.slice(maxLine);
    }
    s.partial = raw.slice(cut);
  };

  return {
    output(stream, chunk) {
      if (ended) return;
      if (dropped > 0) {
        dropped += chunk.length;
        return;
      }
      const at = now();
      const s = streams[stream];
      const text = s.partial + s.decoder.write(chunk);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        emit(stream, text.slice(start, nl), at);
        start = nl + 1;
      }
      s.partial = text.slice(start);
      cutLongLine(stream, at);
    },
    system(line) {
      const at = now();
      for (const part of line.split('\n')) push('system', mask(part), at);
    },
    endOutput() {
      if (ended) return;
      ended = true;
      const at = now();
      for (const stream of ['stdout', 'stderr'] as const) {
        const s = streams[stream];
        const rest = s.partial + s.decoder.end();
        // Stryker disable next-line StringLiteral: once ended, nothing reads the partial line again
        s.partial = '';
        if (dropped > 0) dropped += Buffer.byteLength(rest);
        else if (rest) {
          for (const line of rest.split('\n')) if (line) emit(stream, line, at);
        }
      }
      if (dropped > 0) {
        push(
          'system',
          `… ${dropped} bytes of output dropped (a node's output is kept up to ${maxBytes} bytes per attempt)`,
          at,
        );
      }
    },
    async close() {
      this.endOutput();
      flush();
      await writing;
      return { storedBytes: stored, droppedBytes: dropped };
    },
  };
}
