import type { NumberType } from './lexer.js';
import type { TypeArgument } from './runtime/protocol.js';

/** AST for the C# subset. Every node carries `pos`/`end`: offsets into the expression's code. */

interface NodeBase {
  pos: number;
  end: number;
}

/** A type as written: `List<string>`, `int?`, `string[]`, `var` (`name` is the written name, unresolved). */
export interface TypeNode extends NodeBase {
  kind: 'Type';
  name: string;
  args: TypeNode[];
  arrays: number;
  nullable: boolean;
}

export type LiteralType = NumberType | 'String' | 'Char' | 'Boolean' | 'Null';

export interface Literal extends NodeBase { kind: 'Literal'; value: string | number | boolean | null; type: LiteralType }
export interface Interpolated extends NodeBase {
  kind: 'Interpolated';
  parts: Array<string | { expr: Expression; alignment?: Expression; format?: string }>;
}
export interface Identifier extends NodeBase { kind: 'Identifier'; name: string; typeArgs?: TypeNode[] }
/** `int`, `string`… used as a receiver: `string.IsNullOrEmpty`, `int.Parse`. */
export interface PredefinedType extends NodeBase { kind: 'PredefinedType'; name: string }
export interface Member extends NodeBase { kind: 'Member'; object: Expression; name: string; namePos: number; typeArgs?: TypeNode[] }
/** `a?.b…`: evaluates `receiver`; if null the whole access is null, else `body` runs with ConditionalReceiver bound. */
export interface ConditionalAccess extends NodeBase { kind: 'ConditionalAccess'; receiver: Expression; body: Expression }
export interface ConditionalReceiver extends NodeBase { kind: 'ConditionalReceiver' }
export interface Argument extends NodeBase {
  name?: string;
  value: Expression;
  /** `out x`, `out var x`, `out string x`, `out _`. */
  out?: { declare?: TypeNode | 'var'; name: string };
  refKind?: 'ref' | 'in';
}
export interface Call extends NodeBase { kind: 'Call'; callee: Expression; args: Argument[] }
export interface Index extends NodeBase { kind: 'Index'; object: Expression; args: Expression[] }
export interface Unary extends NodeBase { kind: 'Unary'; op: '!' | '-' | '+' | '~' | '++' | '--'; operand: Expression }
export interface Postfix extends NodeBase { kind: 'Postfix'; op: '++' | '--'; operand: Expression }
export interface Binary extends NodeBase { kind: 'Binary'; op: string; left: Expression; right: Expression }
export interface Conditional extends NodeBase { kind: 'Conditional'; test: Expression; whenTrue: Expression; whenFalse: Expression }
export interface Assign extends NodeBase { kind: 'Assign'; op: string; target: Expression; value: Expression }
export interface Cast extends NodeBase { kind: 'Cast'; type: TypeNode; operand: Expression }
export interface As extends NodeBase { kind: 'As'; operand: Expression; type: TypeNode }
export interface Is extends NodeBase {
  kind: 'Is';
  operand: Expression;
  /** `x is T [name]` */
  type?: TypeNode;
  designation?: string;
  /** `x is null` / `x is "literal"` */
  constant?: Expression;
  negated?: boolean;
}
export interface Lambda extends NodeBase {
  kind: 'Lambda';
  params: Array<{ name: string; type?: TypeNode; pos: number }>;
  body: Expression | Block;
}
export type Initializer =
  | { kind: 'collection'; items: Expression[][] }
  | { kind: 'object'; members: Array<{ name?: string; index?: Expression[]; value: Expression; pos: number; end: number }> };
export interface New extends NodeBase { kind: 'New'; type: TypeNode; args: Argument[]; initializer?: Initializer }
export interface NewArray extends NodeBase { kind: 'NewArray'; elementType?: TypeNode; size?: Expression; items?: Expression[] }
export interface NewAnonymous extends NodeBase { kind: 'NewAnonymous'; members: Array<{ name: string; value: Expression }> }
export interface Typeof extends NodeBase { kind: 'Typeof'; type: TypeNode }
export interface Default extends NodeBase { kind: 'Default'; type?: TypeNode }
/** Filler for a missing or unparsable expression (a diagnostic was reported). */
export interface Missing extends NodeBase { kind: 'Missing' }

export type Expression =
  | Literal | Interpolated | Identifier | PredefinedType | Member | ConditionalAccess | ConditionalReceiver | Call | Index
  | Unary | Postfix | Binary | Conditional | Assign | Cast | As | Is | Lambda | New | NewArray | NewAnonymous | Typeof
  | Default | Missing;

export interface Block extends NodeBase { kind: 'Block'; statements: Statement[] }
export interface LocalDecl extends NodeBase {
  kind: 'LocalDecl';
  type: TypeNode | 'var';
  declarators: Array<{ name: string; init?: Expression; pos: number; end: number }>;
  isConst?: boolean;
}
export interface ExpressionStatement extends NodeBase { kind: 'ExpressionStatement'; expr: Expression }
export interface If extends NodeBase { kind: 'If'; test: Expression; then: Statement; else?: Statement }
export interface Return extends NodeBase { kind: 'Return'; expr?: Expression }
export interface Foreach extends NodeBase { kind: 'Foreach'; varType: TypeNode | 'var'; name: string; iterable: Expression; body: Statement }
export interface For extends NodeBase {
  kind: 'For';
  init?: LocalDecl | Expression[];
  test?: Expression;
  update: Expression[];
  body: Statement;
}
export interface While extends NodeBase { kind: 'While'; test: Expression; body: Statement }
export interface DoWhile extends NodeBase { kind: 'DoWhile'; body: Statement; test: Expression }
export interface Break extends NodeBase { kind: 'Break' }
export interface Continue extends NodeBase { kind: 'Continue' }
export interface Throw extends NodeBase { kind: 'Throw'; expr?: Expression }
export interface Try extends NodeBase {
  kind: 'Try';
  block: Block;
  catches: Array<{ type?: TypeNode; name?: string; filter?: Expression; block: Block; pos: number }>;
  finally?: Block;
}
export interface Switch extends NodeBase {
  kind: 'Switch';
  expr: Expression;
  sections: Array<{ labels: Array<Expression | 'default'>; statements: Statement[]; pos: number }>;
}
export interface Using extends NodeBase { kind: 'Using'; decl?: LocalDecl; expr?: Expression; body?: Statement }
export interface Empty extends NodeBase { kind: 'Empty' }
/** A local function (C# 7): `int F(int x) { … }`, `void G() => …;`. `returnType` undefined = void. */
export interface LocalFunction extends NodeBase {
  kind: 'LocalFunction';
  name: string;
  namePos: number;
  returnType?: TypeNode;
  params: Array<{ name: string; type: TypeNode; pos: number }>;
  body: Block | Expression;
}

export type Statement =
  | Block | LocalDecl | ExpressionStatement | If | Return | Foreach | For | While | DoWhile | Break | Continue | Throw
  | Try | Switch | Using | Empty | LocalFunction;

export type Node = Expression | Statement | TypeNode;

export type { TypeArgument };
