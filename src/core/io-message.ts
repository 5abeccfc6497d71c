/** A filesystem error as a short phrase a user can act on; dependency-free so any layer can use it. */
export function ioMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return 'file not found';
  if (err.code === 'EACCES') return 'permission denied';
  if (err.code === 'EISDIR') return 'is a directory, expected a file';
  return err.message;
}
