/** Secret references in configs: the only way a secret reaches a plugin is `{{ .secret.NAME }}`. */

const REFERENCE = /^\s*\{\{-?\s*\.secret\.([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}\s*$/;
const ANY_REFERENCE = /\{\{-?\s*\.secret\.([A-Za-z_][A-Za-z0-9_]*)/g;

/** True when the whole value is one secret reference. */
export function isSecretReference(value: string): boolean {
  return REFERENCE.test(value);
}

/** Names of every secret referenced anywhere in a value. */
export function secretNames(value: string): string[] {
  return [...value.matchAll(ANY_REFERENCE)].map((m) => m[1]!);
}

export function secretReference(name: string): string {
  return `{{ .secret.${name} }}`;
}

export function isTemplated(value: string): boolean {
  return value.includes('{{');
}
