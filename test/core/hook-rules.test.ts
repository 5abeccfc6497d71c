import { describe, expect, it } from 'vitest';
import { parseHookRule, parseHookRules, splitDependsOn } from '../../src/core/hook-rules.js';

const edges = (text: string) => {
  const r = parseHookRule(text);
  if ('message' in r) throw new Error(r.message);
  return r.edges.map((e) => `${e.from}>${e.to}`);
};
const refusal = (text: string) => {
  const r = parseHookRule(text, 4);
  if (!('message' in r)) throw new Error(`accepted ${text}`);
  return r;
};

describe('hook rules', () => {
  it('reads "a >> b,c" as a before b and a before c, keeping the rule as written', () => {
    expect(parseHookRule(' audit >>  notify , publish ', 7)).toEqual({
      text: ' audit >>  notify , publish ',
      index: 7,
      edges: [
        { from: 'audit', to: 'notify' },
        { from: 'audit', to: 'publish' },
      ],
    });
  });

  it('reads a chain as edges between neighbours only', () => {
    expect(edges('x >> y >> z')).toEqual(['x>y', 'y>z']);
  });

  it('reads lists on both sides as every pair', () => {
    expect(edges('a,b >> c,d')).toEqual(['a>c', 'a>d', 'b>c', 'b>d']);
  });

  it('accepts names with digits, dots, dashes and underscores', () => {
    expect(edges('Audit-2 >> notify_team.v1')).toEqual(['Audit-2>notify_team.v1']);
    expect(edges('9a>>b')).toEqual(['9a>b']);
  });

  it('says what a rule must look like when it has no >>', () => {
    expect(refusal('audit > notify')).toEqual({
      index: 4,
      message: 'rule "audit > notify" must look like "a >> b,c" (hook a runs before hooks b and c)',
    });
    expect(refusal('').message).toContain('must look like');
  });

  it.each([['a >> ,b'], ['a, >> b'], [' >> b'], ['a >> '], ['a >> b >> '], ['a >>>> b']])(
    'refuses %j, which has an empty hook name',
    (text) => {
      expect(refusal(text)).toEqual({ index: 4, message: `rule "${text}" has an empty hook name` });
    },
  );

  it.each([
    ['a >> b c', 'b c'],
    ['-a >> b', '-a'],
    ['a >> _b', '_b'],
    ['a >> b!', 'b!'],
    ['a >> .b', '.b'],
  ])('refuses %j, naming the bad hook name', (text, bad) => {
    expect(refusal(text)).toEqual({ index: 4, message: `rule "${text}": "${bad}" is not a valid hook name` });
  });

  it('refuses a hook that runs before itself', () => {
    expect(refusal('a >> b,a')).toEqual({
      index: 4,
      message: 'rule "a >> b,a" makes hook "a" run before itself',
    });
    expect(refusal('x >> a >> a').message).toContain('"a" run before itself');
  });

  it('parses a list of rules, keeping each rule and error at its index', () => {
    const { rules, errors } = parseHookRules(['a >> b,c', 'nope', 'x >> y >> z', 'a >> a', 'a >> ,b']);
    expect(rules.map((r) => [r.index, r.text])).toEqual([
      [0, 'a >> b,c'],
      [2, 'x >> y >> z'],
    ]);
    expect(errors.map((e) => e.index)).toEqual([1, 3, 4]);
    expect(parseHookRules([])).toEqual({ rules: [], errors: [] });
  });
});

describe('depends_on', () => {
  it('reads a list or a comma-separated string, trimmed, without empty names', () => {
    expect(splitDependsOn(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(splitDependsOn([' a ', '', 'b'])).toEqual(['a', 'b']);
    expect(splitDependsOn('')).toEqual([]);
    expect(splitDependsOn([])).toEqual([]);
  });
});
