/**
 * Imported first by the SDK's entry point, so it runs before any module of the plugin that imports
 * the SDK: stdout carries the protocol and nothing else, so everything a plugin author (or a
 * library) logs goes to stderr, which the host keeps as the plugin's log.
 */
import { Console } from 'node:console';

/** The real stdout writer, kept for the protocol's responses. */
export const protocolWrite: (chunk: string, callback?: (error?: Error | null) => void) => boolean =
  process.stdout.write.bind(process.stdout) as never;

const toStderr = new Console({ stdout: process.stderr, stderr: process.stderr });
for (const key of Object.keys(toStderr) as (keyof Console)[]) {
  const method = toStderr[key];
  if (typeof method === 'function') {
    (console as unknown as Record<string, unknown>)[key] = (method as (...a: unknown[]) => unknown).bind(
      toStderr,
    );
  }
}
// Direct writes to process.stdout (a library's progress output, a stray print) are logs too.
process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
