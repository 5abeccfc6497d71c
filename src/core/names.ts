/**
 * Rules for the names users give things (projects, namespaces, jobs, secrets, assets): how long they
 * may be and which characters they may hold. They are checked where a name enters the system, so a
 * control character or a path trick never reaches the store, a file system or a log line.
 */

/** Maximum lengths, in characters. Jobs as upstream Optimus (125); the others leave room for prefixes. */
export const NAME_MAX = {
  project: 100,
  namespace: 100,
  job: 125,
  secret: 100,
  asset: 255,
} as const;

/** Letters, digits, `_`, `-` and `.`, starting with a letter or digit: projects, namespaces, jobs. */
export const RESOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** C0 controls, DEL and C1 controls: never meaningful in a name, and NUL cannot be stored at all. */
export function isControlChar(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

export function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (isControlChar(s.charCodeAt(i))) return true;
  return false;
}

/**
 * A user's text made safe to quote in a message: control characters as `\uXXXX`, cut to `max`
 * characters, so a hostile name cannot forge log lines or flood an answer.
 */
export function quote(s: string, max = 60): string {
  let out = '';
  for (const ch of s.length > max ? s.slice(0, max) : s) {
    const code = ch.charCodeAt(0);
    out += isControlChar(code) ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
  }
  return `"${out}${s.length > max ? '…' : ''}"`;
}

/**
 * Why an asset name is refused, or undefined when it is fine. An asset is a file under the job's
 * `assets/` folder, named by its path relative to it (`query.sql`, `sql/part.sql`): no leading
 * `/`, no empty, `.` or `..` segment (also when percent-encoded), no backslash, no control
 * characters, so writing it under a run's input folder can never land outside that folder.
 */
export function assetNameProblem(name: string): string | undefined {
  if (name === '') return 'asset names must not be empty';
  if (name.length > NAME_MAX.asset) return `asset names are at most ${NAME_MAX.asset} characters`;
  if (hasControlChar(name)) return 'asset names must not contain control characters';
  for (const form of percentDecoded(name)) {
    if (form.includes('\\')) return 'asset names must not contain "\\" (use "/" between folders)';
    if (form.startsWith('/')) return 'asset names are paths relative to assets/: no leading "/"';
    for (const segment of form.split('/')) {
      if (segment === '') return 'asset paths must not have an empty segment ("//" or a trailing "/")';
      if (segment === '.' || segment === '..') return 'asset paths must not have a "." or ".." segment';
    }
    if (hasControlChar(form)) return 'asset names must not contain control characters';
  }
  return undefined;
}

/** The name and every percent-decoding of it (a name decoded twice by some tool must stay safe). */
function percentDecoded(name: string): string[] {
  const forms = [name];
  let current = name;
  for (let i = 0; i < 3 && current.includes('%'); i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      break;
    }
    if (next === current) break;
    forms.push(next);
    current = next;
  }
  return forms;
}
