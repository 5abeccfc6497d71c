import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogCapture, MASK, secretMasker } from '../../src/scheduler/log-capture.js';
import type { LogLineInput } from '../../src/store/run-store.js';

function capture(opts: Partial<Parameters<typeof createLogCapture>[0]> = {}) {
  const batches: LogLineInput[][] = [];
  const c = createLogCapture({
    runId: 7,
    node: 'load',
    attempt: 2,
    secrets: [],
    write: async (lines) => {
      batches.push(lines);
    },
    flushMs: 60_000,
    ...opts,
  });
  const lines = () => batches.flat();
  const text = (stream?: string) =>
    lines()
      .filter((l) => !stream || l.stream === stream)
      .map((l) => l.line);
  return { c, batches, lines, text };
}

describe('log capture', () => {
  it('splits output into lines per stream, across chunks and inside a multi-byte character', async () => {
    const { c, lines, text } = capture();
    const euro = Buffer.from('€');
    c.output('stdout', Buffer.from('first li'));
    c.output('stderr', Buffer.from('oops\r\n'));
    c.output('stdout', Buffer.concat([Buffer.from('ne\nprice 5'), euro.subarray(0, 1)]));
    c.output('stdout', Buffer.concat([euro.subarray(1), Buffer.from('\nno newline at the end')]));
    await c.close();
    expect(text('stdout')).toEqual(['first line', 'price 5€', 'no newline at the end']);
    expect(text('stderr')).toEqual(['oops']);
    expect(lines()[0]).toMatchObject({ runId: 7, node: 'load', attempt: 2 });
    expect(lines().every((l) => l.at instanceof Date)).toBe(true);
  });

  it('masks every secret value, also when its bytes arrive in two chunks', async () => {
    const { c, text } = capture({ secrets: ['s3cr3t-token', 'pw'] });
    c.output('stdout', Buffer.from('token=s3cr3t-to'));
    c.output('stdout', Buffer.from('ken and pw=pw\n'));
    c.system('compiled with s3cr3t-token');
    await c.close();
    expect(text()).toEqual([`token=${MASK} and ${MASK}=${MASK}`, `compiled with ${MASK}`]);
  });

  it('masks each line of four or more characters of a multi-line secret', () => {
    const { mask } = secretMasker(['-----BEGIN KEY-----\nMIIEabcd\nab\n-----END KEY-----']);
    expect(mask('-----BEGIN KEY-----')).toBe(MASK);
    expect(mask('key line MIIEabcd here')).toBe(`key line ${MASK} here`);
    // Too short to mask without masking half the output.
    expect(mask('ab')).toBe('ab');
  });

  it('masks the longer of two overlapping secrets whole', () => {
    expect(secretMasker(['abc', 'abcdef']).mask('xabcdefx')).toBe(`x${MASK}x`);
  });

  it('keeps at most maxBytes of output and says how much was dropped, while still reading it', async () => {
    const { c, lines } = capture({ maxBytes: 1000 });
    const line = `${'x'.repeat(99)}\n`;
    for (let i = 0; i < 200; i++) c.output('stdout', Buffer.from(line));
    c.system('exited with code 0');
    const { storedBytes, droppedBytes } = await c.close();
    const out = lines().filter((l) => l.stream === 'stdout');
    expect(out).toHaveLength(10);
    expect(storedBytes).toBe(1000);
    expect(droppedBytes).toBe(190 * 100);
    expect(
      lines()
        .filter((l) => l.stream === 'system')
        .map((l) => l.line),
    ).toEqual([
      'exited with code 0',
      "… 19000 bytes of output dropped (a node's output is kept up to 1000 bytes per attempt)",
    ]);
  });

  it('splits a very long line into pieces', async () => {
    const { c, text } = capture({ maxLineChars: 10 });
    c.output('stdout', Buffer.from(`${'a'.repeat(25)}\n`));
    c.output('stdout', Buffer.from('b'.repeat(12)));
    c.output('stdout', Buffer.from('b'.repeat(12)));
    await c.close();
    expect(text()).toEqual(['aaaaaaaaaa', 'aaaaaaaaaa', 'aaaaa', 'bbbbbbbbbb', 'bbbbbbbbbb', 'bbbb']);
  });

  it('never stores a secret cut in two by a long-line split, however the output is chunked', async () => {
    const secret = 'TOPSECRET';
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant(secret), fc.string({ unit: fc.constantFrom('a', 'S', 'T', 'E') })), {
          maxLength: 20,
        }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
        async (parts, sizes) => {
          const input = parts.join('');
          const { c, text } = capture({ secrets: [secret], maxLineChars: 5 });
          let i = 0;
          for (let k = 0; i < input.length; k++) {
            const size = sizes[k % sizes.length]!;
            c.output('stdout', Buffer.from(input.slice(i, i + size)));
            i += size;
          }
          await c.close();
          expect(text().join('')).toBe(input.replaceAll(secret, MASK));
          for (const piece of text()) expect(piece.length).toBeLessThanOrEqual(5 + secret.length - 1);
        },
      ),
    );
  });

  it('writes a batch as soon as it is full, in order', async () => {
    const { c, batches } = capture({ flushLines: 3 });
    c.output('stdout', Buffer.from('1\n2\n3\n4\n'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches.map((b) => b.map((l) => l.line))).toEqual([['1', '2', '3']]);
    await c.close();
    expect(batches.map((b) => b.map((l) => l.line))).toEqual([['1', '2', '3'], ['4']]);
  });

  it('goes on capturing when the store refuses a batch, and reports it', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const stored: string[] = [];
    const c = createLogCapture({
      runId: 1,
      node: 'n',
      attempt: 1,
      secrets: [],
      flushLines: 1,
      write: async (lines) => {
        if (calls++ === 0) throw new Error('store down');
        stored.push(...lines.map((l) => l.line));
      },
      onWriteError: (e) => errors.push(e),
    });
    c.output('stdout', Buffer.from('lost\nkept\n'));
    await c.close();
    expect(stored).toEqual(['kept']);
    expect(errors).toHaveLength(1);
  });
});

describe('log capture, line by line', () => {
  it('shows a secret as four stars', () => {
    expect(secretMasker(['hunter2']).mask('pw hunter2')).toBe('pw ****');
  });

  it('masks every occurrence in a line, and secrets with regex characters literally', () => {
    const { mask } = secretMasker(['p@ss.w*rd', '', 'a+b']);
    expect(mask('p@ss.w*rd then p@ss.w*rd')).toBe(`${MASK} then ${MASK}`);
    expect(mask('p@ssXwwrd aab a+b')).toBe(`p@ssXwwrd aab ${MASK}`);
    // An empty secret masks nothing.
    expect(secretMasker(['']).mask('hello')).toBe('hello');
    expect(mask('hello')).toBe('hello');
  });

  it('masks a line of exactly four characters of a multi-line secret', () => {
    expect(secretMasker(['line-one\nabcd']).mask('x abcd y')).toBe(`x ${MASK} y`);
  });

  it('keeps empty lines, also when a chunk starts with the newline', async () => {
    const { c, text } = capture();
    c.output('stdout', Buffer.from('a\n'));
    c.output('stdout', Buffer.from('\n'));
    c.output('stdout', Buffer.from('b\n'));
    await c.close();
    expect(text()).toEqual(['a', '', 'b']);
  });

  it('splits a line of exactly twice the limit into two pieces', async () => {
    const { c, text } = capture({ maxLineChars: 10 });
    c.output('stdout', Buffer.from(`${'a'.repeat(20)}\n`));
    await c.close();
    expect(text()).toEqual(['a'.repeat(10), 'a'.repeat(10)]);
  });

  it('stores a long line in pieces while it still arrives, holding back only what a secret could need', async () => {
    // A secret of 9 characters: 8 characters stay behind a cut, so 5 + 8 arrive before the first piece.
    const { c, batches } = capture({ secrets: ['TOPSECRET'], maxLineChars: 5, flushLines: 1 });
    const stored = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return batches.flat().map((l) => l.line);
    };
    c.output('stdout', Buffer.from('a'.repeat(12)));
    expect(await stored()).toEqual([]);
    c.output('stdout', Buffer.from('a'));
    expect(await stored()).toEqual(['aaaaa']);
    c.output('stdout', Buffer.from('b'.repeat(10)));
    expect(await stored()).toEqual(['aaaaa', 'aaaaa', 'aaabb']);
    c.output('stdout', Buffer.from('\n'));
    await c.close();
    expect(await stored()).toEqual(['aaaaa', 'aaaaa', 'aaabb', 'bbbbb', 'bbb']);
  });

  it('masks the longer of two secrets whole when the shorter one arrives first on a short line', async () => {
    const { c, text } = capture({ secrets: ['abc', 'abcdef'] });
    c.output('stdout', Buffer.from('xabc'));
    c.output('stdout', Buffer.from('def\n'));
    await c.close();
    expect(text()).toEqual([`x${MASK}`]);
  });

  it('stores nothing after the output ended, and says once how much was dropped', async () => {
    const { c, text } = capture({ maxBytes: 4 });
    c.output('stdout', Buffer.from('abc\nlost\n'));
    c.endOutput();
    c.output('stdout', Buffer.from('late\n'));
    c.system('exited with code 0');
    c.endOutput();
    await c.close();
    expect(text()).toEqual([
      'abc',
      "… 5 bytes of output dropped (a node's output is kept up to 4 bytes per attempt)",
      'exited with code 0',
    ]);
  });

  it('masks the longer of two secrets whole when the shorter one ends a partial line that a cut holds back', async () => {
    const { c, text } = capture({ secrets: ['abc', 'abcdef'], maxLineChars: 3 });
    c.output('stdout', Buffer.from('xabc'));
    c.output('stdout', Buffer.from('def\n'));
    await c.close();
    expect(text()).toEqual(['x**', '**']);
  });

  it('masks a longer secret whole when a cut of a long line falls just after a shorter secret it starts with', async () => {
    const { c, text } = capture({ secrets: ['abc', 'abcdef'], maxLineChars: 5 });
    c.output('stdout', Buffer.from('zzzzzzzabc'));
    c.output('stdout', Buffer.from('def\n'));
    await c.close();
    expect(text().join('')).toBe(`zzzzzzz${MASK}`);
    expect(text().join('\n')).not.toMatch(/def|abc/);
  });

  it('ignores output that comes after the end', async () => {
    const { c, text } = capture();
    c.output('stdout', Buffer.from('kept\n'));
    c.endOutput();
    c.output('stdout', Buffer.from('late\n'));
    await c.close();
    expect(text()).toEqual(['kept']);
  });

  it('keeps no line after the first one dropped, so what is stored has no holes', async () => {
    const { c, text } = capture({ maxBytes: 12 });
    c.output('stdout', Buffer.from('aaaa\nbbbbbbbbbb\nc\n'));
    const { droppedBytes } = await c.close();
    expect(text('stdout')).toEqual(['aaaa']);
    expect(droppedBytes).toBe(13);
  });

  it('counts every byte of dropped output, line ends and an unfinished last line included', async () => {
    const { c } = capture({ maxBytes: 4, secrets: ['s3cr3t'] });
    c.output('stderr', Buffer.from('tail'));
    c.output('stdout', Buffer.from('abc\n'));
    c.output('stdout', Buffer.from('x\r\n'));
    c.output('stdout', Buffer.from('s3cr3t\r\n'));
    const { storedBytes, droppedBytes } = await c.close();
    expect(storedBytes).toBe(4);
    // The line that crossed the cap counts as it would have been stored ("x" and its newline); after
    // it every byte read counts, unmasked and with its \r.
    expect(droppedBytes).toBe(2 + 8 + 4);
  });

  it('writes nothing to the store when there was nothing to store', async () => {
    const { c, batches } = capture();
    expect(await c.close()).toEqual({ storedBytes: 0, droppedBytes: 0 });
    expect(batches).toEqual([]);
  });

  it('goes on when the store refuses a batch and nobody listens for the error', async () => {
    let calls = 0;
    const stored: string[] = [];
    const c = createLogCapture({
      runId: 1,
      node: 'n',
      attempt: 1,
      secrets: [],
      flushLines: 1,
      write: async (lines) => {
        if (calls++ === 0) throw new Error('store down');
        stored.push(...lines.map((l) => l.line));
      },
    });
    c.output('stdout', Buffer.from('lost\nkept\n'));
    await expect(c.close()).resolves.toEqual({ storedBytes: 10, droppedBytes: 0 });
    expect(stored).toEqual(['kept']);
  });
});

describe('log capture over time', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const written = (batches: LogLineInput[][]) => batches.map((b) => b.map((l) => l.line));

  it('writes a batch once its first line has waited flushMs, not before', async () => {
    vi.useFakeTimers();
    const { c, batches } = capture({ flushMs: 1000 });
    c.output('stdout', Buffer.from('one\n'));
    await vi.advanceTimersByTimeAsync(500);
    c.output('stdout', Buffer.from('two\n'));
    await vi.advanceTimersByTimeAsync(499);
    expect(written(batches)).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(written(batches)).toEqual([['one', 'two']]);
    await c.close();
  });

  it('waits 200 ms by default', async () => {
    vi.useFakeTimers();
    const { c, batches } = capture({ flushMs: undefined });
    c.output('stdout', Buffer.from('one\n'));
    await vi.advanceTimersByTimeAsync(199);
    expect(written(batches)).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(written(batches)).toEqual([['one']]);
    await c.close();
  });

  it('starts the wait again for the next batch after a full batch was written', async () => {
    vi.useFakeTimers();
    const { c, batches } = capture({ flushMs: 1000, flushLines: 2 });
    c.output('stdout', Buffer.from('1\n2\n'));
    await vi.advanceTimersByTimeAsync(500);
    expect(written(batches)).toEqual([['1', '2']]);
    c.output('stdout', Buffer.from('3\n'));
    await vi.advanceTimersByTimeAsync(999);
    expect(written(batches)).toEqual([['1', '2']]);
    await vi.advanceTimersByTimeAsync(1);
    expect(written(batches)).toEqual([['1', '2'], ['3']]);
    await c.close();
  });
});
