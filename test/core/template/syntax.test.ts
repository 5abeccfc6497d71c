// Vectors from the text/template package documentation (https://pkg.go.dev/text/template); each
// test names the documented rule it checks.
import { describe, expect, it } from 'vitest';
import { render } from './helpers.js';

const data = {
  DSTART: '2023-03-05T00:00:00Z',
  name: 'world',
  Count: 17,
  Material: 'wool',
  empty: '',
  zero: 0,
  list: ['a', 'b', 'c'],
  none: [],
  nested: { inner: { leaf: 'deep' } },
  m: { b: 'two', a: 'one', c: 'three' },
  flag: true,
  off: false,
  nil: null,
};

describe('text and actions', () => {
  it('copies text outside actions unchanged and prints a field ("17 items are made of wool")', () => {
    expect(render('{{.Count}} items are made of {{.Material}}', data)).toBe('17 items are made of wool');
  });

  it('prints the output trimmed of surrounding white space, as upstream does', () => {
    expect(render('\n  \t{{.name}} \n\n', data)).toBe('world');
    expect(render('\u0085x\u00a0', data)).toBe('x');
    expect(render('\ufeffx', data)).toBe('\ufeffx');
  });

  it('evaluates nested fields and map keys of any case', () => {
    expect(render('{{.nested.inner.leaf}}', data)).toBe('deep');
    expect(render('{{ $.nested.inner.leaf }}', data)).toBe('deep');
    expect(render('{{ $x := .nested }}{{ $x.inner.leaf }}', data)).toBe('deep');
  });

  it('prints dot itself', () => {
    expect(render('{{.}}', 'plain')).toBe('plain');
    expect(render('{{with .name}}{{.}}{{end}}', data)).toBe('world');
  });

  it('prints <no value> for a missing key, also through a chain of missing keys (missingkey=default)', () => {
    expect(render('a {{.nope}} b', data)).toBe('a <no value> b');
    expect(render('{{.nope.deeper.still}}', data)).toBe('<no value>');
    expect(render('{{.nil}}', data)).toBe('<no value>');
  });

  it('refuses a field of a key that is present but nil, as Go does for a nil interface', () => {
    expect(render('{{.nil.x}}', data)).toBe(
      'error TEMPLATE_EXEC: template t:1:3: at <.nil.x>: nil pointer evaluating interface {}.x',
    );
  });

  it('refuses a field of a value that is not a map', () => {
    expect(render('{{.name.length}}', data)).toBe(
      "error TEMPLATE_EXEC: template t:1:3: at <.name.length>: can't evaluate field length in type string",
    );
    expect(render('{{.list.x}}', data)).toContain("can't evaluate field x in type []interface {}");
  });

  it('never exposes JS internals: prototype members are missing keys', () => {
    expect(render('{{.constructor}}|{{.__proto__}}|{{.toString}}|{{.list.length}}', { list: [] })).toContain(
      'error TEMPLATE_EXEC',
    );
    expect(render('{{.constructor}}|{{.__proto__}}|{{.hasOwnProperty}}', {})).toBe(
      '<no value>|<no value>|<no value>',
    );
    expect(render('{{.a.constructor.name}}', { a: {} })).toBe('<no value>');
    expect(render('{{.size}}', new Map([['size', 'from map']]))).toBe('from map');
    expect(render('{{.get}}', new Map())).toBe('<no value>');
  });

  it('accepts Maps, null-prototype objects and Dates in the data', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.k = 'v';
    expect(render('{{.k}}', bare)).toBe('v');
    expect(
      render(
        '{{range $k, $v := .}}{{$k}}{{$v}}{{end}}',
        new Map([
          ['z', 1],
          ['y', 2],
        ]),
      ),
    ).toBe('y2z1');
    expect(render('{{.t.Year}} {{.t}}', { t: new Date(Date.UTC(2023, 2, 5, 1, 2, 3)) })).toBe(
      '2023 2023-03-05 01:02:03 +0000 UTC',
    );
    expect(render('{{.big}}', { big: 12n })).toBe('12');
    expect(
      render('{{.a}} {{.b}}', { a: BigInt(Number.MAX_SAFE_INTEGER), b: BigInt(Number.MIN_SAFE_INTEGER) }),
    ).toBe('9007199254740991 -9007199254740991');
    expect(render('{{.a}}', { a: BigInt(Number.MIN_SAFE_INTEGER) - 1n })).toContain('is too large');
    expect(
      render(
        '{{range $k, $v := .}}{{$k}}={{$v}} {{end}}',
        new Map<unknown, string>([
          [1, 'x'],
          ['a', 'y'],
        ]),
      ),
    ).toBe('a=y');
  });

  it('refuses data it cannot represent as Go values, naming the JS type', () => {
    expect(render('{{.f}}', { f: () => 1 })).toBe(
      'error TEMPLATE_EXEC: template t:1:3: at <.f>: unsupported value of JS type function in the template data',
    );
    expect(render('{{if .c}}x{{end}}', { c: new (class Custom {})() })).toContain('JS type Custom');
    expect(render('{{.b}}', { b: 2n ** 64n })).toContain('is too large');
  });
});

describe('literals', () => {
  it('reads the documented one-line examples that all print "output"', () => {
    for (const t of [
      '{{"\\"output\\""}}',
      '{{`"output"`}}',
      '{{printf "%q" "output"}}',
      '{{"output" | printf "%q"}}',
      '{{printf "%q" (print "out" "put")}}',
      '{{"put" | printf "%s%s" "out" | printf "%q"}}',
      '{{"output" | printf "%s" | printf "%q"}}',
      '{{with "output"}}{{printf "%q" .}}{{end}}',
      '{{with $x := "output" | printf "%q"}}{{$x}}{{end}}',
      '{{with $x := "output"}}{{printf "%q" $x}}{{end}}',
      '{{with $x := "output"}}{{$x | printf "%q"}}{{end}}',
    ])
      expect(render(t), t).toBe('"output"');
  });

  it('decodes Go string escapes, and raw strings as they are (without CR)', () => {
    expect(render('{{"a\\tb\\x41\\101\\u00e9\\U0001F600\\\\\\n"}}')).toBe('a\tbAAé😀\\');
    expect(render('{{"\\xe4\\xb8\\x96"}}')).toBe('世');
    expect(render('{{`a\\n\r\nb`}}')).toBe('a\\n\nb');
    expect(render('{{"\\q"}}')).toBe('error TEMPLATE_PARSE: template t:1:3: invalid string literal "\\q"');
    expect(render('{{"\\\'"}}')).toContain('invalid string literal');
  });

  it('reads numbers in every Go form: sign, hex, octal, binary, underscores, floats, characters', () => {
    expect(render('{{-3}} {{+4}} {{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}} {{0x_ff}}')).toBe(
      '-3 4 31 15 15 5 1000 255',
    );
    expect(render('{{1.5}} {{2.}} {{.25}} {{1e3}} {{3.0}} {{1E-2}}')).toBe('1.5 2 0.25 1000 3 0.01');
    expect(render("{{'a'}} {{'\\n'}} {{'é'}}")).toBe('97 10 233');
  });

  it('rejects malformed numbers', () => {
    expect(render('{{1__0}}')).toContain('illegal number syntax: "1__0"');
    expect(render('{{1_}}')).toContain('illegal number syntax');
    expect(render('{{_1}}')).toContain('function "_1" not defined');
    expect(render('{{3x}}')).toBe('error TEMPLATE_PARSE: template t:1:3: bad number syntax: "3x"');
    expect(render('{{1i}}')).toContain('complex numbers are not supported: "1i"');
    expect(render('{{9007199254740993}}')).toContain('integer too large');
    expect(render('{{1e999}}')).toContain('number out of range');
    expect(render("{{'ab'}}")).toContain('malformed character constant');
    expect(render('{{-}}')).toContain('illegal number syntax: "-"');
  });

  it('reads true, false and nil; nil is no command', () => {
    expect(render('{{true}} {{false}}')).toBe('true false');
    expect(render('{{nil}}')).toBe('error TEMPLATE_EXEC: template t:1:3: at <nil>: nil is not a command');
    expect(render('{{printf "%v" nil}}')).toBe('<nil>');
  });

  it('refuses a field access on a literal', () => {
    expect(render('{{"x".y}}')).toBe(
      'error TEMPLATE_PARSE: template t:1:3: unexpected . after term "\\"x\\""',
    );
    expect(render('{{(print "x").y}}')).toContain("can't evaluate field y in type string");
  });
});

describe('trim markers and comments', () => {
  it('trims all ASCII white space, including newlines, on the marked side only ("{{23 -}} < {{- 45}}")', () => {
    expect(render('{{23 -}} < {{- 45}}')).toBe('23<45');
    expect(render('x{{"a"}} \n\t\r {{- "b" -}} \n y', {})).toBe('xab\n y'.replace('\n y', 'y'));
    expect(render('[ {{- "a" }} ]')).toBe('[a ]');
    expect(render('[ {{ "a" -}} ]')).toBe('[ a]');
    expect(render('a\n{{- /* gone */ -}}\nb')).toBe('ab');
    expect(render('a {{- "x" -}} \u00a0b')).toBe('ax\u00a0b');
  });

  it('needs the space: "{{-3}}" is the number -3 and "{{3-}}" is not a trim marker', () => {
    expect(render('a {{-3}} b')).toBe('a -3 b');
    expect(render('{{3-}}')).toBe('error TEMPLATE_PARSE: template t:1:4: unexpected "-" in operand');
    expect(render('a {{-\n3}} b')).toBe('a3 b');
  });

  it('drops comments, which may span lines, and refuses unclosed ones', () => {
    expect(render('a{{/* one\ntwo */}}b')).toBe('ab');
    expect(render('a{{/* x */ }}b')).toBe(
      'error TEMPLATE_PARSE: template t:1:11: comment ends before closing delimiter',
    );
    expect(render('a\n{{/* x')).toBe('error TEMPLATE_PARSE: template t:2:1: unclosed comment');
  });
});

describe('pipelines and calls', () => {
  it('passes the previous result as the last argument', () => {
    expect(render('{{ .DSTART | Date }}', data)).toBe('2023-03-05');
    expect(render('{{ "b" | printf "%s-%s" "a" }}')).toBe('a-b');
  });

  it('evaluates parenthesised pipelines as arguments and as chain heads', () => {
    expect(render('{{ printf "%s%s" (print "a") ("b" | print) }}')).toBe('ab');
    expect(render('{{ (index .nested "inner").leaf }}', data)).toBe('deep');
  });

  it('refuses arguments to a non-function and constants after a pipe', () => {
    expect(render('{{ .name "x" }}', data)).toBe(
      'error TEMPLATE_EXEC: template t:1:4: at <.name>: name is not a method but has arguments',
    );
    expect(render('{{ "x" | .name }}', data)).toContain('name is not a method but has arguments');
    expect(render('{{ "a" "b" }}')).toContain('can\'t give argument to non-function "a"');
    expect(render('{{ $x := 1 }}{{ $x 2 }}')).toContain("can't give argument to non-function $x");
    expect(render('{{ "a" | "b" }}')).toBe(
      'error TEMPLATE_PARSE: template t:1:10: non executable command in pipeline stage 2',
    );
    expect(render('{{ "a" | (print "b") }}')).toContain('can\'t give argument to non-function (print "b")');
  });

  it('checks argument counts and types as Go does', () => {
    expect(render('{{ Date }}')).toBe(
      'error TEMPLATE_EXEC: template t:1:4: at <Date>: wrong number of args for Date: want 1 got 0',
    );
    expect(render('{{ printf }}')).toContain('wrong number of args for printf: want at least 1 got 0');
    expect(render('{{ trunc "3" "abc" }}')).toContain('expected integer; found "3"');
    expect(render('{{ trunc 1.5 "abc" }}')).toContain('expected integer; found 1.5');
    expect(render('{{ trunc 2.0 "abc" }}')).toBe('ab');
    expect(render('{{ replace 1 "a" "b" }}')).toContain('expected string; found 1');
    expect(render('{{ Date .n }}', { n: 5 })).toContain('wrong type for value; expected string; got int');
    expect(render('{{ Date .missing }}')).toContain('invalid value; expected string');
    expect(render('{{ Date .nil }}', { nil: null })).toContain(
      'wrong type for value; expected string; got interface {}',
    );
    expect(render('{{ Date nil }}')).toContain('cannot assign nil to string');
    expect(render('{{ unixEpoch "x" }}')).toContain('can\'t handle "x" for arg of type time.Time');
    expect(render('{{ 5 | Date }}')).toBe(
      'error TEMPLATE_EXEC: template t:1:8: at <Date>: wrong type for value; expected string; got int',
    );
    expect(render('{{ .n | Date }}', { n: 1.5 })).toContain('expected string; got float64');
    expect(render('{{ .s | trunc 1 }}', { s: 'xyz' })).toBe('x');
    expect(render('{{ "x" | trunc }}')).toContain('wrong number of args for trunc: want 2 got 1');
  });

  it('refuses unknown functions and undefined variables when parsing', () => {
    expect(render('\n{{ nosuch 1 }}')).toBe(
      'error TEMPLATE_PARSE: template t:2:4: function "nosuch" not defined',
    );
    expect(render('{{ call 1 }}')).toContain('function "call" not defined');
    expect(render('{{ $x }}')).toBe('error TEMPLATE_PARSE: template t:1:4: undefined variable "$x"');
    expect(render('{{ $x = 1 }}')).toContain('undefined variable "$x"');
  });
});

describe('if, with, else', () => {
  it('treats false, 0, nil, empty strings, lists and maps as empty and everything else as true', () => {
    const t = '{{if .v}}T{{else}}F{{end}}';
    const cases: [unknown, string][] = [
      [false, 'F'],
      [0, 'F'],
      [0.0, 'F'],
      [null, 'F'],
      [undefined, 'F'],
      ['', 'F'],
      [[], 'F'],
      [{}, 'F'],
      [new Map(), 'F'],
      [true, 'T'],
      [-1, 'T'],
      [0.5, 'T'],
      ['0', 'T'],
      [[0], 'T'],
      [{ a: 0 }, 'T'],
      [new Date(0), 'T'],
    ];
    for (const [v, want] of cases) expect(render(t, { v }), String(v)).toBe(want);
    expect(render('{{if 0.0}}T{{else}}F{{end}}')).toBe('F');
  });

  it('chains else if, as {{else}}{{if}}…{{end}}{{end}}', () => {
    const t = '{{if eq .n 1}}one{{else if eq .n 2}}two{{else if eq .n 3}}three{{else}}many{{end}}';
    expect([1, 2, 3, 4].map((n) => render(t, { n }))).toEqual(['one', 'two', 'three', 'many']);
  });

  it('sets dot in with, and runs else (also else with) when the value is empty', () => {
    expect(render('{{with .nested.inner}}{{.leaf}}{{end}}', data)).toBe('deep');
    expect(render('{{with .empty}}x{{else}}{{.name}}{{end}}', data)).toBe('world');
    expect(render('{{with .empty}}a{{else with .zero}}b{{else with .name}}{{.}}{{end}}', data)).toBe('world');
    expect(render('{{with .empty}}a{{else with .zero}}b{{end}}', data)).toBe('');
  });

  it('refuses else with in an if and else if in a with', () => {
    expect(render('{{if .a}}{{else with .b}}{{end}}')).toBe(
      'error TEMPLATE_PARSE: template t:1:17: unexpected <with> in {{else}} of {{if}}',
    );
    expect(render('{{with .a}}{{else if .b}}{{end}}')).toContain('unexpected <if> in {{else}} of {{with}}');
  });

  it('names the block that misses its end, and refuses stray end and else', () => {
    expect(render('a\n{{if .x}}\n{{range .y}}')).toBe(
      'error TEMPLATE_PARSE: template t:3:3: unexpected EOF: {{range}} has no {{end}}',
    );
    expect(render('{{end}}')).toBe('error TEMPLATE_PARSE: template t:1:3: unexpected {{end}}');
    expect(render('{{else}}')).toBe('error TEMPLATE_PARSE: template t:1:3: unexpected {{else}}');
    expect(render('{{if .a}}{{else}}{{else}}{{end}}')).toContain('expected {{end}}; found {{else}}');
    expect(render('{{if}}{{end}}')).toContain('missing value for if');
    expect(render('{{end x}}')).toContain('unexpected "x" in end');
    expect(render('{{else x}}')).toContain('unexpected "x" in else');
  });
});

describe('range', () => {
  it('ranges over lists with dot set to each element', () => {
    expect(render('{{range .list}}<{{.}}>{{end}}', data)).toBe('<a><b><c>');
  });

  it('visits maps in sorted key order', () => {
    expect(render('{{range $k, $v := .m}}{{$k}}={{$v}} {{end}}', data)).toBe('a=one b=two c=three');
    expect(render('{{range .m}}{{.}},{{end}}', data)).toBe('one,two,three,');
    const keys = { é: 1, z: 2, Z: 3, '😀': 4, '\uffff': 5, a: 6 };
    expect(render('{{range $k, $v := .}}{{$k}}{{end}}', keys)).toBe('Zazé\uffff😀');
  });

  it('assigns the element to a single variable and index then element to two', () => {
    expect(render('{{range $e := .list}}{{$e}}{{end}}', data)).toBe('abc');
    expect(render('{{range $i, $e := .list}}{{$i}}{{$e}}{{end}}', data)).toBe('0a1b2c');
  });

  it('assigns to existing variables with =', () => {
    expect(render('{{$i := 9}}{{$e := ""}}{{range $i, $e = .list}}{{end}}{{$i}}{{$e}}', data)).toBe('2c');
    expect(render('{{$e := ""}}{{range $e = .list}}{{end}}{{$e}}', data)).toBe('c');
  });

  it('ranges over an integer (Go 1.22), but not with two variables', () => {
    expect(
      render('{{range 3}}{{.}}{{end}}|{{range $i := 2}}{{$i}}{{end}}|{{range 0}}x{{else}}none{{end}}'),
    ).toBe('012|01|none');
    expect(render('{{range $i, $v := 3}}{{end}}')).toContain(
      "can't use 3 to iterate over more than one variable",
    );
  });

  it('runs else, with dot unchanged, when there is nothing to visit (empty, missing or nil)', () => {
    expect(render('{{range .none}}x{{else}}{{.name}}{{end}}', data)).toBe('world');
    expect(render('{{range .missing}}x{{else}}none{{end}}', data)).toBe('none');
    expect(render('{{range .nil}}x{{else}}none{{end}}', data)).toBe('none');
    expect(render('{{range .m}}x{{else}}none{{end}}', { m: {} })).toBe('none');
  });

  it('refuses to range over a string or a bool', () => {
    expect(render('{{range .name}}{{end}}', data)).toBe(
      "error TEMPLATE_EXEC: template t:1:9: at <.name>: range can't iterate over world",
    );
    expect(render('{{range true}}{{end}}')).toContain("range can't iterate over true");
  });

  it('stops at break and skips the rest of an iteration at continue (Go 1.18)', () => {
    expect(render('{{range .list}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}', data)).toBe('a');
    expect(render('{{range .list}}{{if eq . "b"}}{{continue}}{{end}}{{.}}{{end}}', data)).toBe('ac');
    expect(render('{{range $k, $v := .m}}{{if eq $k "b"}}{{break}}{{end}}{{$v}}{{end}}', data)).toBe('one');
    expect(render('{{range 10}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}')).toBe('012');
    expect(render('{{range .list}}{{with .}}{{continue}}{{end}}x{{end}}', data)).toBe('');
  });

  it("refuses break and continue outside a range, and inside a range's else", () => {
    expect(render('{{break}}')).toBe('error TEMPLATE_PARSE: template t:1:3: {{break}} outside {{range}}');
    expect(render('{{if 1}}{{continue}}{{end}}')).toContain('{{continue}} outside {{range}}');
    expect(render('{{range .l}}{{else}}{{break}}{{end}}')).toContain('{{break}} outside {{range}}');
    expect(render('{{range .l}}{{break 1}}{{end}}')).toContain('unexpected "1" in {{break}}');
    expect(render('{{range .l}}{{define "x"}}{{end}}{{end}}')).toContain(
      '{{define}} is only allowed at the top level',
    );
  });

  it('refuses more variables than range can initialise', () => {
    expect(render('{{range $a, $b, $c := .l}}{{end}}')).toContain('too many declarations in range');
    expect(render('{{if $a, $b := .l}}{{end}}')).toContain('too many declarations in if');
    expect(render('{{range $a, 1}}{{end}}')).toContain('range can only initialize variables');
  });
});

describe('variables', () => {
  it('produces no output for a declaration and keeps the variable to the end of the template', () => {
    expect(render('{{$x := "v"}}[{{$x}}]')).toBe('[v]');
  });

  it('scopes a variable to the end of the control structure that declares it', () => {
    expect(render('{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}')).toBe('21');
    expect(render('{{if true}}{{$y := 2}}{{end}}{{$y}}')).toContain('undefined variable "$y"');
    expect(render('{{with $v := .name}}{{else}}{{$v}}{{end}}', { name: '' })).toBe('');
    expect(render('{{if $v := .a}}{{else if $w := .b}}{{$v}}{{$w}}{{end}}', { a: 0, b: 'B' })).toBe('0B');
  });

  it('assigns with = to the variable in the nearest scope, visible after the block', () => {
    expect(render('{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}')).toBe('2');
    expect(render('{{$x := 1}}{{range .l}}{{$x = .}}{{end}}{{$x}}', { l: [5, 6] })).toBe('6');
  });

  it('sets $ to the data, also inside with and range', () => {
    expect(render('{{with .nested}}{{$.name}}{{end}}', data)).toBe('world');
    expect(render('{{range .list}}{{$.name}}{{end}}', data)).toBe('worldworldworld');
  });

  it('does not pass variables to an invoked template', () => {
    expect(render('{{define "x"}}{{$v}}{{end}}{{$v := 1}}{{template "x"}}')).toContain(
      'undefined variable "$v"',
    );
    expect(render('{{define "x"}}{{$}}{{end}}{{template "x" "dot"}}')).toBe('dot');
  });
});

describe('define, template and block', () => {
  it('executes a defined template with nil data or with a pipeline as dot', () => {
    expect(
      render('{{define "T"}}[{{.}}]{{end}}{{template "T"}}{{template "T" "x"}}{{template "T" .name}}', data),
    ).toBe('[<no value>][x][world]');
  });

  it('treats block as define plus template, and lets a define elsewhere override it', () => {
    expect(render('{{block "b" .name}}<{{.}}>{{end}}', data)).toBe('<world>');
    expect(render('{{block "b" .name}}<{{.}}>{{end}}{{define "b"}}({{.}}){{end}}', data)).toBe('(world)');
    expect(render('{{define "b"}}({{.}}){{end}}{{block "b" .name}}<{{.}}>{{end}}', data)).toBe('(world)');
    expect(render('{{block "b"}}{{end}}')).toContain('missing value for block clause');
  });

  it('accepts raw-string names and refuses other names', () => {
    expect(render('{{define `r`}}R{{end}}{{template `r`}}')).toBe('R');
    expect(render('{{template .x}}')).toContain('unexpected ".x" in template clause');
    expect(render('{{define x}}{{end}}')).toContain('unexpected "x" in define clause');
    expect(render('{{define "x" 1}}{{end}}')).toContain('unexpected "1" in define clause');
  });

  it('fails at run time on a template that is not defined, naming it', () => {
    expect(render('ok {{if false}}{{template "nope"}}{{end}}')).toBe('ok');
    expect(render('{{template "nope" .}}')).toBe(
      'error TEMPLATE_EXEC: template t:1:3: at <template "nope" .}}>: template "nope" not defined',
    );
  });

  it('refuses two definitions of one template', () => {
    expect(render('{{define "a"}}1{{end}}\n{{define "a"}}2{{end}}')).toBe(
      'error TEMPLATE_PARSE: template t:2:3: template "a" is defined twice: also at t:1:3',
    );
    expect(render('{{define "a"}}1{{end}}{{define "a"}} {{end}}{{template "a"}}')).toBe('1');
    expect(render('{{define "a"}} {{end}}{{define "a"}}2{{end}}{{template "a"}}')).toBe('2');
  });

  it('names the template being executed when the error is inside a define', () => {
    expect(render('{{define "inner"}}\n  {{ .x.y }}{{end}}{{template "inner" .}}', { x: 'str' })).toBe(
      'error TEMPLATE_EXEC: template t:2:6: executing "inner" at <.x.y>: can\'t evaluate field y in type string',
    );
  });
});

describe('lexical errors', () => {
  it('reports the character Go reports, with line and column', () => {
    expect(render('event_timestamp > "{{.DSTART"')).toBe(
      "error TEMPLATE_PARSE: template t:1:29: bad character U+0022 '\"'",
    );
    expect(render('{{ .a@ }}')).toContain("bad character U+0040 '@'");
    expect(render('{{ @ }}')).toContain('unexpected "@" in command');
    expect(render('{{ "abc }}')).toContain('unterminated quoted string');
    expect(render('{{ "a\nb" }}')).toContain('unterminated quoted string');
    expect(render('{{ `abc }}')).toContain('unterminated raw quoted string');
    expect(render("{{ 'a }}")).toContain('unterminated character constant');
    expect(render('{{ .a ')).toBe('error TEMPLATE_PARSE: template t:1:1: unclosed action');
    expect(render('{{ (.a }}')).toContain('unclosed left paren');
    expect(render('{{ .a) }}')).toContain('unexpected right paren');
    expect(render('{{ $x : 1 }}')).toContain('expected :=');
    expect(render('{{ \u0001 }}')).toContain('unrecognized character in action: U+0001');
    expect(render('{{ .a. }}')).toBe('error TEMPLATE_PARSE: template t:1:6: unexpected "." in operand');
    expect(render('{{ }}')).toContain('missing value for command');
    expect(render('{{ .a | }}')).toBe('error TEMPLATE_PARSE: template t:1:9: missing command after |');
    expect(render('{{ (.a |) }}')).toContain('missing command after |');
    expect(render('{{ ( ) }}')).toContain('missing value for parenthesized pipeline');
  });

  it('allows actions to span lines and spaces anywhere between tokens', () => {
    expect(render('{{\n  printf\n  "%s"\n  .name\n}}', data)).toBe('world');
  });
});
