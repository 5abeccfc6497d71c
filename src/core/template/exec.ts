/**
 * The evaluator: walks a parsed template over the data, with Go's semantics (exec.go): pipelines
 * pass their value as the last argument, variables live until the {{end}} of their block, a
 * missing map key is "no value" (missingkey=default), and/or short-circuit, range visits maps in
 * key order. It is bounded: template call depth, evaluation steps and output bytes.
 */
import type {
  ArgNode,
  BranchNode,
  ChainNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  TemplateNode,
  Tree,
  VariableNode,
} from './ast.js';
import { printed } from './fmt.js';
import { FUNCTIONS, type FuncEnv, type GoFunc, type ParamType, timeMethod } from './functions.js';
import { GoTime } from './go-time.js';
import { GoFloat, type GoMap, isTrue, kindOf, mapGet, sortedKeys, typeName, ValueError } from './values.js';

/** "No final argument": distinct from a final argument that has no value. */
const MISSING: unique symbol = Symbol('missing');
type Final = unknown | typeof MISSING;

enum Flow {
  Normal = 0,
  Break = 1,
  Continue = 2,
}

export interface Limits {
  maxTemplateDepth: number;
  maxSteps: number;
  maxOutputBytes: number;
}

export interface ExecWarning {
  tree: Tree;
  pos: number;
  code: 'TEMPLATE_NO_VALUE' | 'TEMPLATE_FUNCTION';
  message: string;
}

/** What one render call shares across the files it renders. */
export interface Shared {
  trees: ReadonlyMap<string, Tree>;
  env: Omit<FuncEnv, 'warn'>;
  limits: Limits;
  steps: number;
  outputBytes: number;
  warnings: ExecWarning[];
}

/** An execution failure at a node; index.ts turns it into a TemplateError with a position. */
export class ExecFailure extends Error {
  constructor(
    message: string,
    readonly tree: Tree,
    readonly pos: number,
    readonly context: string,
    readonly limit: boolean,
  ) {
    super(message);
  }
}

interface State {
  shared: Shared;
  tree: Tree;
  vars: { name: string; value: unknown }[];
  depth: number;
  out: string[];
}

const GO_TYPES: Record<ParamType, string> = {
  string: 'string',
  int: 'int',
  time: 'time.Time',
  any: 'interface {}',
  value: 'reflect.Value',
};

function sourceOf(s: State, node: { pos: number; end?: number }): string {
  const text = s.tree.source.text.slice(node.pos, node.end ?? node.pos);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function fail(s: State, node: { pos: number; end?: number }, message: string, limit = false): never {
  throw new ExecFailure(message, s.tree, node.pos, sourceOf(s, node), limit);
}

function step(s: State, node: { pos: number }): void {
  if (++s.shared.steps > s.shared.limits.maxSteps)
    fail(s, node, `evaluation exceeds ${s.shared.limits.maxSteps} steps (maxSteps)`, true);
}

function write(s: State, node: { pos: number; end?: number }, text: string): void {
  const shared = s.shared;
  shared.outputBytes += Buffer.byteLength(text, 'utf8');
  if (shared.outputBytes > shared.limits.maxOutputBytes)
    fail(s, node, `output exceeds ${shared.limits.maxOutputBytes} bytes (maxOutputBytes)`, true);
  s.out.push(text);
}

function warn(s: State, pos: number, code: ExecWarning['code'], message: string): void {
  s.shared.warnings.push({ tree: s.tree, pos, code, message });
}

/** Render one template; returns the output (not yet trimmed). */
export function execute(shared: Shared, tree: Tree, data: unknown): string {
  const s: State = { shared, tree, vars: [{ name: '$', value: data }], depth: 0, out: [] };
  walk(s, data, tree.root);
  return s.out.join('');
}

function walk(s: State, dot: unknown, node: Node): Flow {
  step(s, node);
  switch (node.type) {
    case 'list':
      return walkList(s, dot, node);
    case 'text':
      write(s, { pos: node.pos, end: node.pos + node.text.length }, node.text);
      return Flow.Normal;
    case 'action': {
      const value = evalPipeline(s, dot, node.pipe);
      if (node.pipe.decl.length === 0) printValue(s, node.pipe, value);
      return Flow.Normal;
    }
    case 'if':
    case 'with':
      return walkIfOrWith(s, dot, node);
    case 'range':
      return walkRange(s, dot, node);
    case 'template':
      walkTemplate(s, dot, node);
      return Flow.Normal;
    case 'break':
      return Flow.Break;
    case 'continue':
      return Flow.Continue;
  }
}

function walkList(s: State, dot: unknown, list: ListNode): Flow {
  for (const n of list.nodes) {
    const flow = walk(s, dot, n);
    if (flow !== Flow.Normal) return flow;
  }
  return Flow.Normal;
}

/** Runs a value helper, turning its ValueError into a failure at the node. */
function guard<T>(s: State, node: { pos: number; end?: number }, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ValueError) fail(s, node, e.message);
    throw e;
  }
}

function printValue(s: State, pipe: PipeNode, value: unknown): void {
  const text = guard(s, pipe, () => printed(value));
  if (value === undefined || value === null)
    warn(
      s,
      pipe.pos,
      'TEMPLATE_NO_VALUE',
      `{{ ${sourceOf(s, pipe).trim()} }} printed <no value>: the key is missing or nil`,
    );
  write(s, pipe, text);
}

function walkIfOrWith(s: State, dot: unknown, node: BranchNode): Flow {
  const mark = s.vars.length;
  const value = evalPipeline(s, dot, node.pipe);
  let flow = Flow.Normal;
  if (truth(s, node.pipe, value)) flow = walkList(s, node.type === 'with' ? value : dot, node.list);
  else if (node.elseList) flow = walkList(s, dot, node.elseList);
  s.vars.length = mark;
  return flow;
}

function truth(s: State, node: { pos: number; end?: number }, value: unknown): boolean {
  return guard(s, node, () => isTrue(value));
}

function walkRange(s: State, dot: unknown, node: BranchNode): Flow {
  const mark = s.vars.length;
  const value = evalPipeline(s, dot, node.pipe);
  const inner = s.vars.length;
  const { decl, isAssign } = node.pipe;
  const setVar = (name: string, v: unknown) => {
    for (let i = s.vars.length - 1; i >= 0; i--)
      if (s.vars[i]!.name === name) {
        s.vars[i]!.value = v;
        return;
      }
  };
  const one = (index: unknown, elem: unknown): Flow => {
    if (decl.length > 0) {
      if (isAssign) setVar(decl[0]!, decl.length > 1 ? index : elem);
      else s.vars[s.vars.length - 1]!.value = elem;
    }
    if (decl.length > 1) {
      if (isAssign) setVar(decl[1]!, elem);
      else s.vars[s.vars.length - 2]!.value = index;
    }
    const flow = walkList(s, elem, node.list);
    s.vars.length = inner;
    return flow;
  };
  let ran = false;
  switch (guard(s, node.pipe, () => kindOf(value))) {
    case 'slice': {
      const list = value as unknown[];
      for (let i = 0; i < list.length; i++) {
        ran = true;
        if (one(i, list[i]) === Flow.Break) break;
      }
      break;
    }
    case 'map': {
      const m = value as GoMap;
      for (const key of sortedKeys(m)) {
        ran = true;
        if (
          one(
            key,
            guard(s, node.pipe, () => mapGet(m, key)),
          ) === Flow.Break
        )
          break;
      }
      break;
    }
    case 'int': {
      if (decl.length > 1) fail(s, node.pipe, `can't use ${value} to iterate over more than one variable`);
      for (let i = 0; i < (value as number); i++) {
        ran = true;
        step(s, node);
        if (one(i, i) === Flow.Break) break;
      }
      break;
    }
    case 'invalid':
    case 'nil':
      break;
    default:
      fail(s, node.pipe, `range can't iterate over ${printed(value)}`);
  }
  if (!ran && node.elseList) walkList(s, dot, node.elseList);
  s.vars.length = mark;
  return Flow.Normal;
}

function walkTemplate(s: State, dot: unknown, node: TemplateNode): void {
  const tree = s.shared.trees.get(node.name);
  if (!tree) fail(s, node, `template ${JSON.stringify(node.name)} not defined`);
  if (s.depth >= s.shared.limits.maxTemplateDepth)
    fail(s, node, `exceeded maximum template depth (${s.shared.limits.maxTemplateDepth})`, true);
  const newDot = node.pipe ? evalPipeline(s, dot, node.pipe) : undefined;
  const callee: State = {
    shared: s.shared,
    tree,
    vars: [{ name: '$', value: newDot }],
    depth: s.depth + 1,
    out: s.out,
  };
  walkList(callee, newDot, tree.root);
}

function evalPipeline(s: State, dot: unknown, pipe: PipeNode): unknown {
  let value: Final = MISSING;
  for (const cmd of pipe.cmds) {
    value = evalCommand(s, dot, cmd.args, value);
    // An interface holding nil is no value from here on, as in Go.
    if (value === null) value = undefined;
  }
  for (const name of pipe.decl) {
    if (pipe.isAssign) {
      for (let i = s.vars.length - 1; i >= 0; i--)
        if (s.vars[i]!.name === name) {
          s.vars[i]!.value = value;
          break;
        }
    } else s.vars.push({ name, value });
  }
  return value;
}

function evalCommand(s: State, dot: unknown, args: ArgNode[], final: Final): unknown {
  const first = args[0]!;
  step(s, first);
  switch (first.type) {
    case 'field':
      return evalFieldChain(s, dot, dot, first, first.ident, args, final);
    case 'chain':
      return evalChain(s, dot, first, args, final);
    case 'identifier':
      return evalCall(s, dot, FUNCTIONS[first.name]!, true, first, first.name, args, final);
    case 'variable':
      return evalVariable(s, dot, first, args, final);
  }
  if (args.length > 1 || final !== MISSING)
    fail(s, first, `can't give argument to non-function ${sourceOf(s, first)}`);
  switch (first.type) {
    case 'pipe':
      return evalPipeline(s, dot, first);
    case 'nil':
      return fail(s, first, 'nil is not a command');
    case 'number':
      return idealConstant(s, first);
    case 'dot':
      return dot;
    default:
      return first.value;
  }
}

/** An untyped number constant: a float when it looks like one (3.0, 1e3), else an int. */
function idealConstant(s: State, n: NumberNode): unknown {
  const looksFloat = !/^[+-]?0[xX]/.test(n.text) && n.text[0] !== "'" && /[.eEpP]/.test(n.text);
  if (n.isFloat && looksFloat) return Number.isSafeInteger(n.float) ? new GoFloat(n.float) : n.float;
  if (n.isInt) return n.int;
  return fail(s, n, `${n.text} overflows int`);
}

function evalVariable(s: State, dot: unknown, node: VariableNode, args: ArgNode[], final: Final): unknown {
  const name = node.ident[0]!;
  let value: unknown;
  for (let i = s.vars.length - 1; i >= 0; i--)
    if (s.vars[i]!.name === name) {
      value = s.vars[i]!.value;
      break;
    }
  if (node.ident.length === 1) {
    if (args.length > 1 || final !== MISSING) fail(s, node, `can't give argument to non-function ${name}`);
    return value;
  }
  return evalFieldChain(s, dot, value, node, node.ident.slice(1), args, final);
}

function evalChain(s: State, dot: unknown, chain: ChainNode, args: ArgNode[], final: Final): unknown {
  const receiver =
    chain.node.type === 'pipe' ? evalPipeline(s, dot, chain.node) : evalArg(s, dot, 'any', chain.node);
  return evalFieldChain(s, dot, receiver, chain, chain.fields, args, final);
}

function evalFieldChain(
  s: State,
  dot: unknown,
  receiver: unknown,
  node: ArgNode,
  ident: string[],
  args: ArgNode[],
  final: Final,
): unknown {
  let r = receiver;
  for (let i = 0; i < ident.length - 1; i++) r = evalField(s, dot, ident[i]!, node, [], MISSING, r);
  return evalField(s, dot, ident[ident.length - 1]!, node, args, final, r);
}

function evalField(
  s: State,
  dot: unknown,
  name: string,
  node: ArgNode,
  args: ArgNode[],
  final: Final,
  receiver: unknown,
): unknown {
  // missingkey=default: a field of no value is no value.
  if (receiver === undefined) return undefined;
  if (receiver === null) fail(s, node, `nil pointer evaluating interface {}.${name}`);
  if (receiver instanceof GoTime) {
    const method = timeMethod(receiver, name);
    if (method) return evalCall(s, dot, method, false, node, name, args, final);
  }
  return guard(s, node, () => {
    if (kindOf(receiver) !== 'map')
      fail(s, node, `can't evaluate field ${name} in type ${typeName(receiver)}`);
    if (args.length > 1 || final !== MISSING) fail(s, node, `${name} is not a method but has arguments`);
    return mapGet(receiver as GoMap, name);
  });
}

function evalCall(
  s: State,
  dot: unknown,
  fn: GoFunc,
  isBuiltin: boolean,
  node: ArgNode,
  name: string,
  args: ArgNode[],
  final: Final,
): unknown {
  const argNodes = args.slice(1);
  const numIn = argNodes.length + (final === MISSING ? 0 : 1);
  const numFixed = fn.params.length;
  if (fn.variadic) {
    if (numIn < numFixed)
      fail(s, node, `wrong number of args for ${name}: want at least ${numFixed} got ${argNodes.length}`);
  } else if (numIn !== numFixed) {
    fail(s, node, `wrong number of args for ${name}: want ${numFixed} got ${numIn}`);
  }
  if (isBuiltin && (name === 'and' || name === 'or')) {
    // Go 1.18+: stop at the first argument that decides the result and return that argument.
    let v: unknown;
    for (const a of argNodes) {
      v = evalArg(s, dot, 'value', a);
      if (truth(s, a, v) === (name === 'or')) return v;
    }
    return final === MISSING ? v : final;
  }
  const argv: unknown[] = [];
  argNodes.forEach((a, i) => {
    argv.push(evalArg(s, dot, i < numFixed ? fn.params[i]! : fn.variadic!, a));
  });
  if (final !== MISSING)
    argv.push(validateType(s, node, final, numIn - 1 < numFixed ? fn.params[numIn - 1]! : fn.variadic!));
  const env: FuncEnv = { ...s.shared.env, warn: (m) => warn(s, node.pos, 'TEMPLATE_FUNCTION', m) };
  try {
    return fn.call(argv, env);
  } catch (e) {
    if (e instanceof ValueError) fail(s, node, `error calling ${name}: ${e.message}`);
    throw e;
  }
}

function validateType(s: State, node: ArgNode, value: unknown, type: ParamType): unknown {
  if (type === 'value' || type === 'any') return value === null ? undefined : value;
  if (value === undefined) fail(s, node, `invalid value; expected ${GO_TYPES[type]}`);
  const ok =
    type === 'string'
      ? typeof value === 'string'
      : type === 'int'
        ? kindOf(value) === 'int'
        : value instanceof GoTime;
  if (!ok)
    fail(
      s,
      node,
      `wrong type for value; expected ${GO_TYPES[type]}; got ${value === null ? 'interface {}' : typeName(value)}`,
    );
  return value;
}

function evalArg(s: State, dot: unknown, type: ParamType, n: ArgNode): unknown {
  step(s, n);
  switch (n.type) {
    case 'dot':
      return validateType(s, n, dot, type);
    case 'nil':
      if (type === 'any' || type === 'value') return undefined;
      return fail(s, n, `cannot assign nil to ${GO_TYPES[type]}`);
    case 'field':
      return validateType(s, n, evalFieldChain(s, dot, dot, n, n.ident, [n], MISSING), type);
    case 'variable':
      return validateType(s, n, evalVariable(s, dot, n, [n], MISSING), type);
    case 'pipe':
      return validateType(s, n, evalPipeline(s, dot, n), type);
    case 'identifier':
      return validateType(s, n, evalCall(s, dot, FUNCTIONS[n.name]!, true, n, n.name, [n], MISSING), type);
    case 'chain':
      return validateType(s, n, evalChain(s, dot, n, [n], MISSING), type);
  }
  switch (type) {
    case 'string':
      if (n.type === 'string') return n.value;
      return fail(s, n, `expected string; found ${sourceOf(s, n)}`);
    case 'int':
      if (n.type === 'number' && n.isInt) return n.int;
      return fail(s, n, `expected integer; found ${sourceOf(s, n)}`);
    case 'time':
      return fail(s, n, `can't handle ${sourceOf(s, n)} for arg of type time.Time`);
  }
  return n.type === 'number' ? idealConstant(s, n) : n.value;
}
