import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
