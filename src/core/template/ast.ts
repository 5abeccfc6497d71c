/** The parse tree: Go's text/template/parse nodes, with source offsets for error positions. */

export interface Source {
  /** The asset (file) the node was parsed from. */
  file: string;
  text: string;
}

interface Base {
  pos: number;
}

export interface TextNode extends Base {
  type: 'text';
  text: string;
}

export interface ListNode extends Base {
  type: 'list';
  nodes: Node[];
}

export interface PipeNode extends Base {
  type: 'pipe';
  end: number;
  isAssign: boolean;
  decl: string[];
  cmds: CommandNode[];
}

export interface CommandNode extends Base {
  type: 'command';
  args: ArgNode[];
}

export interface FieldNode extends Base {
  type: 'field';
  end: number;
  ident: string[];
}

export interface VariableNode extends Base {
  type: 'variable';
  end: number;
  /** The variable name ("$x") and then any fields. */
  ident: string[];
}

export interface ChainNode extends Base {
  type: 'chain';
  end: number;
  node: ArgNode;
  fields: string[];
}

export interface IdentifierNode extends Base {
  type: 'identifier';
  end: number;
  name: string;
}

export interface NumberNode extends Base {
  type: 'number';
  end: number;
  text: string;
  isInt: boolean;
  isFloat: boolean;
  int: number;
  float: number;
}

export interface ConstNode extends Base {
  type: 'bool' | 'string' | 'dot' | 'nil';
  end: number;
  value: boolean | string | undefined;
}

export type ArgNode =
  | FieldNode
  | VariableNode
  | ChainNode
  | IdentifierNode
  | NumberNode
  | ConstNode
  | PipeNode;

export interface ActionNode extends Base {
  type: 'action';
  pipe: PipeNode;
}

export interface BranchNode extends Base {
  type: 'if' | 'with' | 'range';
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | undefined;
}

export interface TemplateNode extends Base {
  type: 'template';
  end: number;
  name: string;
  pipe: PipeNode | undefined;
}

export interface LoopControlNode extends Base {
  type: 'break' | 'continue';
}

export type Node = TextNode | ListNode | ActionNode | BranchNode | TemplateNode | LoopControlNode;

/** A named template: a file's own text, a {{define}} or a {{block}}. */
export interface Tree {
  name: string;
  root: ListNode;
  source: Source;
  /** Where it was defined, for messages about duplicates. */
  pos: number;
  kind: 'file' | 'define' | 'block';
}
