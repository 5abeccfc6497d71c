/** A filesystem error as a short phrase (the spec layer's wording, without importing its schemas). */
export function ioMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return 'file not found';
  if (err.code === 'EACCES') return 'permission denied';
  if (err.code === 'EISDIR') return 'is a directory, expected a file';
  return err.message;
}
