import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_TEMPLATE_DEPTH,
  isPartial,
  renderAssets,
  renderString,
  TemplateError,
} from '../../../src/core/template/index.js';
import { render } from './helpers.js';

const ctx = { DSTART: '2023-03-05T00:00:00Z', DEND: '2023-03-06T00:00:00Z', TABLE: 'sales' };

function thrown(f: () => unknown): TemplateError {
  try {
    f();
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error('expected a TemplateError');
}

describe('asset files and partials', () => {
  it('renders every file but the .gtpl partials, each trimmed', () => {
    const out = renderAssets(
      {
        'query.sql': '\n  select * from {{.TABLE}} where d >= "{{ .DSTART | Date }}"\n',
        'header.gtpl': '-- generated',
        'sub/notes.txt': '{{ template "header.gtpl" }}',
      },
      ctx,
    );
    expect(out).toEqual({
      files: { 'query.sql': 'select * from sales where d >= "2023-03-05"', 'sub/notes.txt': '-- generated' },
      warnings: [],
    });
  });

  it('resolves partials and their defines from any file, whatever the order of the files', () => {
    const partial =
      '{{define "window"}}{{.DSTART | Date}}..{{.DEND | Date}}{{end}}{{define "t"}}{{.TABLE}}{{end}}';
    const main = 'from {{template "t" .}} between {{template "window" .}}';
    const a = renderAssets({ 'a.sql': main, 'z.gtpl': partial }, ctx);
    const b = renderAssets({ 'z.gtpl': partial, 'a.sql': main }, ctx);
    const c = renderAssets({ 'a.gtpl': partial, 'z.sql': main }, ctx);
    expect(a.files).toEqual({ 'a.sql': 'from sales between 2023-03-05..2023-03-06' });
    expect(b.files).toEqual(a.files);
    expect(c.files).toEqual({ 'z.sql': 'from sales between 2023-03-05..2023-03-06' });
  });

  it('lets other files be invoked by name and share their defines', () => {
    const out = renderAssets(
      { 'a.sql': '{{define "x"}}X{{end}}a', 'b.sql': '{{template "a.sql"}}{{template "x"}}' },
      ctx,
    );
    expect(out.files).toEqual({ 'a.sql': 'a', 'b.sql': 'aX' });
  });

  it('lets a partial override a block default of a main file, in either order', () => {
    const files = {
      'q.sql': 'select {{block "cols" .}}*{{end}} from t',
      'cols.gtpl': '{{define "cols"}}a, b{{end}}',
    };
    expect(renderAssets(files, ctx).files).toEqual({ 'q.sql': 'select a, b from t' });
    expect(renderAssets({ 'q.sql': files['q.sql'] }, ctx).files).toEqual({ 'q.sql': 'select * from t' });
  });

  it('refuses a template defined in two files, naming both places', () => {
    const e = thrown(() =>
      renderAssets({ 'a.gtpl': '{{define "x"}}1{{end}}', 'b.gtpl': '\n\n  {{define "x"}}2{{end}}' }, ctx),
    );
    expect(e.code).toBe('TEMPLATE_PARSE');
    expect(e.message).toBe('template b.gtpl:3:5: template "x" is defined twice: also at a.gtpl:1:3');
    expect([e.template, e.line, e.column]).toEqual(['b.gtpl', 3, 5]);
    expect(e.hint).toContain('syntax');
  });

  it('names the asset and line of a parse error, in a partial or a main file', () => {
    const e = thrown(() => renderAssets({ 'ok.sql': 'fine', 'p.gtpl': 'a\nb {{ if }}' }, ctx));
    expect([e.code, e.template, e.line, e.column]).toEqual(['TEMPLATE_PARSE', 'p.gtpl', 2, 9]);
    expect(e.message).toBe('template p.gtpl:2:9: missing value for if');
  });

  it('names the asset and line of an execution error, also when it happens in a partial', () => {
    const e = thrown(() =>
      renderAssets({ 'main.sql': 'x\n{{ template "p.gtpl" . }}', 'p.gtpl': '\n\n{{ .TABLE | Date }}' }, ctx),
    );
    expect([e.code, e.template, e.line, e.column]).toEqual(['TEMPLATE_EXEC', 'p.gtpl', 3, 13]);
    expect(e.message).toBe(
      'template p.gtpl:3:13: at <Date>: error calling Date: parsing time "sales" as "2006-01-02T15:04:05Z07:00": cannot parse "sales" as "2006"',
    );
    expect(e.message).not.toMatch(/at .*\.ts:\d+/);
  });

  it('collects a warning, with asset and position, for every place that printed <no value>', () => {
    const out = renderAssets(
      { 'a.sql': 'x = {{ .NOPE }}\n{{ range .L }}{{ .missing }}{{ end }}', 'b.sql': '{{ .TABLE }}' },
      { ...ctx, L: [{}, {}] },
    );
    expect(out.files['a.sql']).toBe('x = <no value>\n<no value><no value>');
    expect(out.warnings).toEqual([
      {
        code: 'TEMPLATE_NO_VALUE',
        template: 'a.sql',
        line: 1,
        column: 8,
        message: '{{ .NOPE }} printed <no value>: the key is missing or nil',
      },
      {
        code: 'TEMPLATE_NO_VALUE',
        template: 'a.sql',
        line: 2,
        column: 18,
        message: '{{ .missing }} printed <no value>: the key is missing or nil',
      },
    ]);
  });

  it("warns when a function falls back to upstream's lenient behaviour", () => {
    const { warnings } = renderString(
      '{{ date "2006" .DSTART }} {{ toDate "2006" "x" }} {{ .DSTART | toDate "2006-01-02T15:04:05Z07:00" | date_modify "1 day" }}',
      ctx,
      {
        name: 'task.config.X',
      },
    );
    expect(warnings.map((w) => [w.code, w.template, w.column, w.message])).toEqual([
      [
        'TEMPLATE_FUNCTION',
        'task.config.X',
        4,
        'date was given a string, not a time: it formats the current time, as upstream does (use toDate first)',
      ],
      [
        'TEMPLATE_FUNCTION',
        'task.config.X',
        30,
        'toDate: parsing time "x" as "2006": cannot parse "x" as "2006"; it returns the zero time, as upstream does',
      ],
      [
        'TEMPLATE_FUNCTION',
        'task.config.X',
        101,
        'date_modify: "1 day" is not a duration such as -24h or 1h30m; the time is unchanged',
      ],
    ]);
  });

  it('renders a single config value, named "config" unless told otherwise', () => {
    expect(renderString('{{ .TABLE }}_{{ .DSTART | Date }}', ctx)).toEqual({
      output: 'sales_2023-03-05',
      warnings: [],
    });
    expect(thrown(() => renderString('{{ .TABLE.x }}', ctx)).template).toBe('config');
  });

  it('knows partials by their .gtpl extension', () => {
    expect(['a.gtpl', 'dir/b.gtpl', 'a.sql', 'gtpl', 'a.gtpl.sql'].map(isPartial)).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it('refuses an unknown time zone for the location option', () => {
    const e = thrown(() => renderString('x', {}, { location: 'Mars/Olympus' }));
    expect([e.code, e.message]).toEqual(['TEMPLATE_OPTION', 'template unknown time zone "Mars/Olympus"']);
  });
});

describe('safety bounds', () => {
  it('stops a template that calls itself, with a clear error at the default depth', () => {
    const e = thrown(() => renderString('{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}', {}));
    expect(e.code).toBe('TEMPLATE_LIMIT');
    expect(e.message).toBe(
      `template config:1:17: executing "r" at <template "r" .}}>: exceeded maximum template depth (${DEFAULT_MAX_TEMPLATE_DEPTH})`,
    );
  });

  it('allows recursion up to the depth and not one more', () => {
    const t = '{{define "down"}}{{if .}}x{{template "down" (slice . 1)}}{{end}}{{end}}{{template "down" .}}';
    expect(renderString(t, Array(9).fill(1), { maxTemplateDepth: 10 }).output).toBe('x'.repeat(9));
    expect(thrown(() => renderString(t, Array(10).fill(1), { maxTemplateDepth: 10 })).code).toBe(
      'TEMPLATE_LIMIT',
    );
  });

  it('bounds the output size, over all the files of a call', () => {
    const big = '{{range 100}}0123456789{{end}}';
    expect(renderString(big, {}, { maxOutputBytes: 1000 }).output).toHaveLength(1000);
    const e = thrown(() => renderString(big, {}, { maxOutputBytes: 999 }));
    expect([e.code, e.message]).toEqual([
      'TEMPLATE_LIMIT',
      'template config:1:14: at <0123456789>: output exceeds 999 bytes (maxOutputBytes)',
    ]);
    expect(
      thrown(() => renderAssets({ 'a.sql': big, 'b.sql': big }, {}, { maxOutputBytes: 1500 })).template,
    ).toBe('b.sql');
    expect(
      thrown(() =>
        renderString('{{ printf "%999999d" 1 }}{{ printf "%999999d" 1 }}', {}, { maxOutputBytes: 1_500_000 }),
      ).code,
    ).toBe('TEMPLATE_LIMIT');
  });

  it('counts output in UTF-8 bytes', () => {
    expect(thrown(() => renderString('ééé', {}, { maxOutputBytes: 5 })).code).toBe('TEMPLATE_LIMIT');
    expect(renderString('ééé', {}, { maxOutputBytes: 6 }).output).toBe('ééé');
  });

  it('bounds the work of templates that multiply (each call calls twice)', () => {
    let t = '{{define "t0"}}.{{end}}';
    for (let i = 1; i <= 40; i++)
      t += `{{define "t${i}"}}{{template "t${i - 1}"}}{{template "t${i - 1}"}}{{end}}`;
    const e = thrown(() =>
      renderString(`${t}{{template "t40"}}`, {}, { maxSteps: 100_000, maxOutputBytes: 1e12 }),
    );
    expect([e.code, e.message.endsWith('evaluation exceeds 100000 steps (maxSteps)')]).toEqual([
      'TEMPLATE_LIMIT',
      true,
    ]);
    expect(thrown(() => renderString('{{range 1000000000}}{{end}}', {}, { maxSteps: 1000 })).code).toBe(
      'TEMPLATE_LIMIT',
    );
  });

  it('refuses deeply nested parentheses and blocks instead of overflowing the stack', () => {
    const parens = `{{${'('.repeat(5000)}1${')'.repeat(5000)}}}`;
    expect(thrown(() => renderString(parens, {})).message).toBe(
      'template config:1:103: nesting too deep: more than 100 levels of blocks or parentheses',
    );
    expect(renderString(`{{${'('.repeat(100)}1${')'.repeat(100)}}}`, {}).output).toBe('1');
    const ifs = `${'{{if 1}}'.repeat(3000)}x${'{{end}}'.repeat(3000)}`;
    expect(thrown(() => renderString(ifs, {})).code).toBe('TEMPLATE_PARSE');
    expect(renderString(`${'{{with 1}}'.repeat(100)}x${'{{end}}'.repeat(100)}`, {}).output).toBe('x');
  });

  it('turns a JS stack overflow into a limit error rather than a crash', () => {
    const nested = `{{define "r"}}${'{{if 1}}'.repeat(90)}{{template "r"}}${'{{end}}'.repeat(90)}{{end}}{{template "r"}}`;
    const e = thrown(() => renderString(nested, {}, { maxTemplateDepth: 1e9, maxSteps: 1e12 }));
    expect(e.code).toBe('TEMPLATE_LIMIT');
    expect(e.message).toMatch(/too deep/);
  });

  it('passes NUL and other control characters in text through, and refuses them inside actions', () => {
    expect(renderString('a\0b{{ "c\\x00d" }}', {}).output).toBe('a\0bc\0d');
    expect(thrown(() => renderString('{{ \0 }}', {})).message).toBe(
      'template config:1:4: unrecognized character in action: U+0000',
    );
  });
});

describe('laws', () => {
  const textWithoutActions = fc.string({ unit: 'grapheme-ascii' }).filter((s) => !s.includes('{{'));

  it('returns a text without actions unchanged but trimmed', () => {
    fc.assert(
      fc.property(textWithoutActions, (s) => {
        expect(renderString(s, {}).output).toBe(s.replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, ''));
      }),
    );
  });

  it('prints a string field the same with {{ printf "%s" .X }} as with {{ .X }}', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (x) => {
        const plain = renderString('[{{ .X }}]', { X: x }).output;
        expect(renderString('[{{ printf "%s" .X }}]', { X: x }).output).toBe(plain);
        expect(renderString('[{{ .X | print }}]', { X: x }).output).toBe(plain);
      }),
    );
  });

  it('reads back any string written as a Go quoted literal (printf %q then parse)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (x) => {
        const quoted = render('{{ printf "%q" .X }}', { X: x });
        expect(renderString(`[{{ ${quoted} }}]`, {}).output).toBe(`[${x}]`);
      }),
    );
  });

  it('ranges over any map in sorted key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.integer()), (m) => {
        const keys = renderString('{{ range $k, $v := . }}{{ printf "%q," $k }}{{ end }}', m).output;
        const expected = Object.keys(m)
          .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
          .map((k) => `${render('{{ printf "%q" . }}', k)},`)
          .join('');
        expect(keys).toBe(expected);
      }),
    );
  });

  it('formats %.Nf like exact decimal rounding, half to even', () => {
    // Whole JS numbers are Go ints (and %f of an int is a format error), so only fractions here.
    const fraction = fc
      .double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 })
      .filter((x) => !Number.isInteger(x));
    fc.assert(
      fc.property(fraction, fc.integer({ min: 0, max: 8 }), (x, p) => {
        const got = render(`{{ printf "%.${p}f" .x }}`, { x });
        expect(Math.abs(Number(got) - x)).toBeLessThanOrEqual(
          0.5 * 10 ** -p * (1 + 1e-9) + Math.abs(x) * 1e-15,
        );
        expect(got.split('.')[1]?.length ?? 0).toBe(p);
      }),
    );
  });
});
