/** Secret references in configs: the only way a secret reaches a plugin is `{{ .secret.NAME }}`. */

const REFERENCE = /^\s*\{\{-?\s*\.secret\.([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}\s*$/;
/** A template action, and a `.secret.NAME` field anywhere inside one (`{{ toDate "2006" .secret.X }}` too). */
const ACTION = /\{\{([\s\S]*?)\}\}/g;
const SECRET_FIELD = /\.secret\.([A-Za-z_][A-Za-z0-9_]*)/g;

/** True when the whole value is one secret reference. */
export function isSecretReference(value: string): boolean {
  return REFERENCE.test(value);
}

/** Names of every secret a value's template actions read, in order (repeats kept). */
export function secretNames(value: string): string[] {
  const names: string[] = [];
  for (const action of value.matchAll(ACTION))
    for (const m of action[1]!.matchAll(SECRET_FIELD)) names.push(m[1]!);
  return names;
}

export function secretReference(name: string): string {
  return `{{ .secret.${name} }}`;
}

export function isTemplated(value: string): boolean {
  return value.includes('{{');
}
