import { describe, expect, it } from 'vitest';
import { isSecretReference, isTemplated, secretNames, secretReference } from '../../src/core/secret-ref.js';

describe('secret references', () => {
  it.each([
    '{{ .secret.TOKEN }}',
    '{{.secret.TOKEN}}',
    '{{- .secret.TOKEN -}}',
    '{{-.secret.TOKEN-}}',
    '  {{ .secret.TOKEN }}  ',
    '\t{{   .secret._under_score9   }}\n',
    '{{ .secret.a }}',
  ])('accepts %j as a reference to one secret', (value) => {
    expect(isSecretReference(value)).toBe(true);
  });

  it.each([
    ['plain text', 'sk-live-0123'],
    ['an empty value', ''],
    ['a reference with text before it', 'Bearer {{ .secret.TOKEN }}'],
    ['a reference with text after it', '{{ .secret.TOKEN }}x'],
    ['two references', '{{ .secret.A }}{{ .secret.B }}'],
    ['a name starting with a digit', '{{ .secret.9LIVES }}'],
    ['a name with a dash', '{{ .secret.MY-TOKEN }}'],
    ['a name with a dot', '{{ .secret.A.B }}'],
    ['an empty name', '{{ .secret. }}'],
    ['another template value', '{{ .GLOBAL__TOKEN }}'],
    ['a secret without the leading dot', '{{ secret.TOKEN }}'],
    ['an unclosed reference', '{{ .secret.TOKEN'],
    ['a single brace', '{ .secret.TOKEN }'],
    ['a reference closed by a single brace', '{{ .secret.TOKEN }'],
  ])('refuses %s', (_, value) => {
    expect(isSecretReference(value)).toBe(false);
  });

  it('finds the name of every secret used anywhere in a value, in order', () => {
    expect(secretNames('user={{ .secret.DB_USER }} pass={{.secret.DB_PASS}} {{- .secret.X9 }}')).toEqual([
      'DB_USER',
      'DB_PASS',
      'X9',
    ]);
    expect(secretNames('{{ .secret.A }}{{ .secret.A }}')).toEqual(['A', 'A']);
  });

  it('finds secrets read anywhere inside an action, not only as its first word', () => {
    expect(
      secretNames('{{ toDate "2006" .secret.X }} {{ if .secret.A }}{{ .secret.B | trunc 3 }}{{ end }}'),
    ).toEqual(['X', 'A', 'B']);
  });

  it('finds no secret in plain text or in other template values', () => {
    expect(secretNames('no secrets here')).toEqual([]);
    expect(secretNames('{{ .GLOBAL__X }} {{ secret.Y }} {{ .secret.9Z }} .secret.W')).toEqual([]);
  });

  it('reads a secret name up to the first character a name cannot hold', () => {
    expect(secretNames('{{ .secret.A_b1-rest }}')).toEqual(['A_b1']);
  });

  it('writes the reference a user is told to use, which is itself accepted', () => {
    expect(secretReference('WH_TOKEN')).toBe('{{ .secret.WH_TOKEN }}');
    expect(isSecretReference(secretReference('WH_TOKEN'))).toBe(true);
    expect(secretNames(secretReference('WH_TOKEN'))).toEqual(['WH_TOKEN']);
  });

  it('treats a value as templated when it holds {{, since it is only known at run time', () => {
    expect(isTemplated('{{ .DSTART }}')).toBe(true);
    expect(isTemplated('select * where d > "{{.DEND}}"')).toBe(true);
    expect(isTemplated('plain { braces }')).toBe(false);
    expect(isTemplated('')).toBe(false);
  });
});
