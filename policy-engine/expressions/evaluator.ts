import type { DiagnosticKey, Span } from '../diagnostics.js';
import type * as A from './ast.js';
import { CONTEXT_ENUMERABLE, CONTEXT_INDEXERS, CONTEXT_MODEL } from './context-model.js';
import type { RawDiagnostic } from './parser.js';
import { LINQ } from './runtime/collections.js';
import { checkCollectionSize, checkDeadline, checkString, DEFAULT_EVALUATION_LIMITS, enterCall, exitCall, ExpressionLimitError, TICKS_PER_CLOCK_READ, withinBudget, type EvaluationLimits } from './runtime/limits.js';
import { asType, castTo, defaultValueOf, isInstanceOf } from './runtime/conversions.js';
import { CsDateTime, CsTimeSpan } from './runtime/datetime.js';
import { clrErrors, ExpressionRuntimeError } from './runtime/errors.js';
import { JToken } from './runtime/json.js';
import { getIndex, getMember, invokeMember, arrangeArguments, setIndex, setMember, type CallSite } from './runtime/members.js';
import { align, formatValue } from './runtime/numbers.js';
import { OutRef, type TypeArgument } from './runtime/protocol.js';
import { CsExceptionValue, STATIC_TYPES, type RuntimeContext, type StaticMember } from './runtime/statics.js';
import { STRING_METHOD_TYPES } from './runtime/strings.js';
import { FLOATING_TYPES, INTEGRAL_TYPES, isNumericType, lookupType, NAMESPACES, typeEntry } from './runtime/types.js';
import { CsAnonymous, CsEnum, csCompare, csEquals, enumerate, toCSharpString, typeNameOf } from './runtime/values.js';

/**
 * Compiles the AST once into closures over a frame of local slots. Names, types, static members and the
 * `context` model are resolved here, at load time; evaluation never looks at source text again.
 */

export interface EvaluationScope {
  /** The C# `context` object (built by the gateway from the host classes). */
  context: unknown;
  /** Epoch milliseconds from the injected clock (`DateTime.UtcNow`). */
  now(): number;
  /** [0, 1) random source for Guid.NewGuid and new Random() (default Math.random). */
  random?(): number;
  /**
   * Time, call-depth and allocation bounds (missing fields take DEFAULT_EVALUATION_LIMITS). The gateway always
   * passes them; without `limits` only the 10,000,000-iteration loop guard applies (tools and unit tests).
   */
  limits?: Partial<EvaluationLimits>;
}

const TICK_MASK = TICKS_PER_CLOCK_READ - 1;

function resolveLimits(partial: Partial<EvaluationLimits>): EvaluationLimits {
  return { ...DEFAULT_EVALUATION_LIMITS, ...partial };
}

/** Runs one evaluation under the scope's limits when it has any. */
function bounded<T>(scope: EvaluationScope, run: () => T): T {
  return scope.limits ? withinBudget(resolveLimits(scope.limits), run) : run();
}

/** The runtime state of one evaluation: local slots plus the clock and random source. */
class Frame implements RuntimeContext {
  ret: unknown = null;
  readonly locals: unknown[];
  iterations = 0;
  calls = 0;
  constructor(
    readonly scope: EvaluationScope,
    size: number,
  ) {
    this.locals = new Array<unknown>(size).fill(null);
  }
  now(): number {
    return this.scope.now();
  }
  random(): number {
    return this.scope.random ? this.scope.random() : Math.random();
  }
}

type Ev = (f: Frame) => unknown;
/** Statement completion: normal, break, continue, return. */
const NORMAL = 0, BREAK = 1, CONTINUE = 2, RETURN = 3;
type St = (f: Frame) => number;

interface Value {
  kind: 'value';
  ev: Ev;
  /** Canonical static type (`Int32`, `String`, `String[]`) or `Dynamic` when unknown. */
  type: string;
  /** Context-model type (`IRequest`, `Headers`…) when known. */
  schema?: string;
  /** True when `ev` returns a compile-time constant. */
  constant?: boolean;
}
interface TypeRef {
  kind: 'type';
  name: string;
  written: string;
}
interface NamespaceRef {
  kind: 'namespace';
  name: string;
}
type Operand = Value | TypeRef | NamespaceRef;

interface Local {
  slot: number;
  type: string;
  /** A local function's declared result type (its calls are typed by it) and parameter count. */
  returns?: string;
  arity?: number;
}

const MAX_LOOP_ITERATIONS = 10_000_000;

/** APIM-specific extension methods the emulator does not implement (rejected at load). */
const APIM_EXTENSIONS_NOT_EMULATED: ReadonlySet<string> = new Set(['VerifyNoRevocation']);

const UNIVERSAL_METHODS: Record<string, string> = { ToString: 'String', Equals: 'Boolean', GetType: 'Dynamic', GetHashCode: 'Int32', CompareTo: 'Int32' };
const BOOLEAN_METHODS = new Set(['Contains', 'ContainsKey', 'StartsWith', 'EndsWith', 'Any', 'All', 'Equals', 'IsMatch', 'TryGetValue', 'Remove', 'ContainsValue', 'HasFlag', 'SequenceEqual']);

const MEMBER_TYPES: Record<string, Record<string, string>> = {
  String: { Length: 'Int32' },
  TimeSpan: {
    TotalSeconds: 'Double', TotalMilliseconds: 'Double', TotalMinutes: 'Double', TotalHours: 'Double', TotalDays: 'Double',
    Days: 'Int32', Hours: 'Int32', Minutes: 'Int32', Seconds: 'Int32', Milliseconds: 'Int32', Ticks: 'Int64',
  },
  DateTime: {
    Year: 'Int32', Month: 'Int32', Day: 'Int32', Hour: 'Int32', Minute: 'Int32', Second: 'Int32', Millisecond: 'Int32',
    DayOfYear: 'Int32', Ticks: 'Int64', Date: 'DateTime', TimeOfDay: 'TimeSpan',
  },
  JObject: { Count: 'Int32', HasValues: 'Boolean' },
  JArray: { Count: 'Int32', HasValues: 'Boolean' },
};

/** Exception base types, for `catch (ArgumentException)` matching derived exceptions. */
const EXCEPTION_BASES: Record<string, string> = {
  ArgumentNullException: 'ArgumentException',
  ArgumentOutOfRangeException: 'ArgumentException',
  JsonReaderException: 'JsonException',
  UriFormatException: 'FormatException',
  KeyNotFoundException: 'SystemException',
  ArgumentException: 'SystemException',
  FormatException: 'SystemException',
  InvalidCastException: 'SystemException',
  InvalidOperationException: 'SystemException',
  NullReferenceException: 'SystemException',
  IndexOutOfRangeException: 'SystemException',
  DivideByZeroException: 'ArithmeticException',
  OverflowException: 'ArithmeticException',
  ArithmeticException: 'SystemException',
  NotSupportedException: 'SystemException',
  MissingMemberException: 'SystemException',
  SystemException: 'Exception',
  JsonException: 'Exception',
};

function exceptionMatches(thrownType: string, caught: string): boolean {
  let t: string | undefined = thrownType.slice(thrownType.lastIndexOf('.') + 1);
  const want = caught.slice(caught.lastIndexOf('.') + 1);
  if (want === 'Exception') return true;
  while (t) {
    if (t === want) return true;
    t = EXCEPTION_BASES[t];
  }
  return false;
}

/** Attaches a span to a runtime failure (innermost wins); wraps non-.NET errors from host code. */
function attach(e: unknown, span: Span): unknown {
  if (e instanceof ExpressionRuntimeError) {
    if (!e.hasSpan) e.span = span;
    return e;
  }
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return new ExpressionRuntimeError('System.StackOverflowException', 'Operation caused a stack overflow.', span, { cause: e });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new ExpressionRuntimeError('System.Exception', message, span, { cause: e });
}

function truthy(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) throw clrErrors.invalidOperation('Nullable object must have a value.');
  throw clrErrors.invalidCast(typeNameOf(v), 'System.Boolean');
}

function normalize(v: unknown): unknown {
  if (v === undefined) return null;
  if (v instanceof Date) return CsDateTime.fromDate(v);
  return v;
}

function isIntegralType(t: string): boolean {
  return INTEGRAL_TYPES.has(t) || t === 'Char';
}

function numericResult(a: string, b: string): string {
  if (a === 'Dynamic' || b === 'Dynamic' || a === 'Object' || b === 'Object') return 'Dynamic';
  if (FLOATING_TYPES.has(a) || FLOATING_TYPES.has(b)) return a === 'Decimal' || b === 'Decimal' ? 'Decimal' : 'Double';
  if (isIntegralType(a) && isIntegralType(b)) return a === 'Int64' || b === 'Int64' || a === 'UInt64' || b === 'UInt64' ? 'Int64' : 'Int32';
  return 'Dynamic';
}

function wrapInt32(n: number): number {
  return n | 0;
}

function add(l: unknown, r: unknown): unknown {
  if (typeof l === 'number' && typeof r === 'number') return l + r;
  if (typeof l === 'string' || typeof r === 'string') return checkString(toCSharpString(l) + toCSharpString(r));
  if (l === null || l === undefined || r === null || r === undefined) return null;
  if (l instanceof CsDateTime && r instanceof CsTimeSpan) return l.Add(r);
  if (l instanceof CsTimeSpan && r instanceof CsTimeSpan) return l.Add(r);
  if (l instanceof CsTimeSpan && r instanceof CsDateTime) return r.Add(l);
  throw operatorError('+', l, r);
}

function subtract(l: unknown, r: unknown): unknown {
  if (typeof l === 'number' && typeof r === 'number') return l - r;
  if (l === null || l === undefined || r === null || r === undefined) return null;
  if (l instanceof CsDateTime && (r instanceof CsDateTime || r instanceof CsTimeSpan)) return l.Subtract(r);
  if (l instanceof CsTimeSpan && r instanceof CsTimeSpan) return l.Subtract(r);
  throw operatorError('-', l, r);
}

function operatorError(op: string, l: unknown, r: unknown): ExpressionRuntimeError {
  return clrErrors.invalidOperation(`Operator '${op}' cannot be applied to operands of type '${typeNameOf(l)}' and '${typeNameOf(r)}'`);
}

function nums(op: string, l: unknown, r: unknown): [number, number] | undefined {
  if (typeof l === 'number' && typeof r === 'number') return [l, r];
  if (l === null || l === undefined || r === null || r === undefined) return undefined;
  if (l instanceof CsEnum && r instanceof CsEnum) return [l.value, r.value];
  throw operatorError(op, l, r);
}

function divide(l: unknown, r: unknown, integral: boolean | undefined): unknown {
  const n = nums('/', l, r);
  if (!n) return null;
  const [a, b] = n;
  const isInt = integral ?? (Number.isInteger(a) && Number.isInteger(b));
  if (isInt) {
    if (b === 0) throw clrErrors.divideByZero();
    return Math.trunc(a / b);
  }
  return a / b;
}

function remainder(l: unknown, r: unknown, integral: boolean | undefined): unknown {
  const n = nums('%', l, r);
  if (!n) return null;
  const [a, b] = n;
  const isInt = integral ?? (Number.isInteger(a) && Number.isInteger(b));
  if (isInt && b === 0) throw clrErrors.divideByZero();
  const v = a % b;
  return v === 0 ? 0 : v;
}

function compare(op: string, l: unknown, r: unknown): boolean {
  if (typeof l === 'number' && typeof r === 'number') {
    switch (op) {
      case '<': return l < r;
      case '>': return l > r;
      case '<=': return l <= r;
      default: return l >= r;
    }
  }
  if (l === null || l === undefined || r === null || r === undefined) return false;
  if (typeof l === 'string' || typeof r === 'string' || typeof l === 'boolean') throw operatorError(op, l, r);
  const c = csCompare(l, r);
  switch (op) {
    case '<': return c < 0;
    case '>': return c > 0;
    case '<=': return c <= 0;
    default: return c >= 0;
  }
}

const LONG_TYPES: ReadonlySet<string> = new Set(['Int64', 'UInt64']);

function bitwise(op: string, l: unknown, r: unknown, wide = false): unknown {
  if (typeof l === 'boolean' && typeof r === 'boolean') return op === '&' ? l && r : op === '|' ? l || r : l !== r;
  if (l instanceof CsEnum && r instanceof CsEnum && l.type === r.type) {
    const v = op === '&' ? l.value & r.value : op === '|' ? l.value | r.value : l.value ^ r.value;
    return CsEnum.fromValue(l.type, v);
  }
  const n = nums(op, l, r);
  if (!n) return null;
  const [a, b] = n;
  const shift = op === '<<' || op === '>>';
  // 64-bit operands (a `long` static type, or a value outside int's range) use 64-bit two's complement, as C#.
  if (wide || (a | 0) !== a || (!shift && (b | 0) !== b)) {
    const x = BigInt(Math.trunc(a));
    if (shift) return Number(op === '<<' ? BigInt.asIntN(64, x << BigInt(b & 63)) : x >> BigInt(b & 63));
    const y = BigInt(Math.trunc(b));
    return Number(BigInt.asIntN(64, op === '&' ? x & y : op === '|' ? x | y : x ^ y));
  }
  return op === '&' ? a & b : op === '|' ? a | b : op === '^' ? a ^ b : op === '<<' ? a << b : a >> b;
}

/**
 * JavaScript's own member names (Object.prototype, Function.prototype, `prototype`, `__proto__`). No .NET type the
 * expressions see has such a member, and the member tables are plain objects, so these are refused at compile time
 * before any table lookup: the sandbox must not depend on what a prototype chain happens to hold.
 */
const JS_RESERVED_MEMBERS = new Set(
  [...Object.getOwnPropertyNames(Object.prototype), ...Object.getOwnPropertyNames(Function.prototype), 'prototype', 'callee'].filter((n) => n !== 'length' && n !== 'name'),
);

function receiverName(target: Operand): string {
  return target.kind === 'namespace' ? target.name : target.kind === 'type' ? target.written : (target.schema ?? target.type);
}

/** Static result type of a method call, where known without running it. */
function methodResultType(receiver: Value, name: string, typeArgs: TypeArgument[] | undefined): string {
  const schema = receiver.schema ? CONTEXT_MODEL[receiver.schema]?.[name] : undefined;
  if (schema?.startsWith('method:')) {
    const r = schema.slice(7);
    if (r === 'Generic') return typeArgs?.[0] ? typeName(typeArgs[0]) : 'Dynamic';
    if (r === 'GenericOrObject') return typeArgs?.[0] ? typeName(typeArgs[0]) : 'Object';
    return r;
  }
  if (receiver.type === 'String' && STRING_METHOD_TYPES[name]) return STRING_METHOD_TYPES[name]!;
  if (name === 'Count' || name === 'IndexOf' || name === 'LastIndexOf') return 'Int32';
  if (BOOLEAN_METHODS.has(name)) return 'Boolean';
  if ((name === 'Value' || name === 'ToObject' || name === 'GetValueOrDefault') && typeArgs?.[0]) return typeName(typeArgs[0]);
  if (receiver.type === 'DateTime' && name.startsWith('Add')) return 'DateTime';
  return UNIVERSAL_METHODS[name] ?? 'Dynamic';
}

function typeName(t: TypeArgument): string {
  return t.name + '[]'.repeat(t.arrays);
}

function isExceptionValue(v: unknown): v is CsExceptionValue {
  return v instanceof CsExceptionValue;
}

export interface CompileOutput {
  evaluate(scope: EvaluationScope): unknown;
}

export class ExpressionCompiler {
  private readonly scopes: Array<Map<string, Local>> = [new Map()];
  private slotCount = 0;
  private loopDepth = 0;
  private breakDepth = 0;
  /** Inside a `void` local function: `return;` is allowed, `return x;` is not. */
  private voidReturn: string | undefined;
  private readonly receivers: Array<{ slot: number; type: string; schema?: string }> = [];
  private readonly catchSlots: number[] = [];

  constructor(
    private readonly diagnostics: RawDiagnostic[],
    private readonly spanOf: (pos: number, end: number) => Span,
  ) {}

  private error(key: DiagnosticKey, node: { pos: number; end: number }, args: Array<string | number> = []): void {
    if (this.diagnostics.some((d) => d.start === node.pos && d.key === key)) return;
    this.diagnostics.push({ key, start: node.pos, end: node.end, args });
  }

  private span(node: { pos: number; end: number }): Span {
    return this.spanOf(node.pos, node.end);
  }

  // ---- scopes ----
  private lookup(name: string): Local | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const l = this.scopes[i]!.get(name);
      if (l) return l;
    }
    return undefined;
  }
  private declare(name: string, type: string, node: { pos: number; end: number }): Local {
    if (name !== '_' && this.lookup(name)) this.error('ExprDuplicateLocal', node, [name]);
    const local = { slot: this.slotCount++, type };
    if (name !== '_') this.scopes[this.scopes.length - 1]!.set(name, local);
    return local;
  }
  private tempSlot(): number {
    return this.slotCount++;
  }
  private withScope<T>(fn: () => T): T {
    this.scopes.push(new Map());
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  // ---- roots ----
  compileRoot(root: A.Expression | A.Block, kind: 'expression' | 'block'): CompileOutput {
    if (kind === 'expression') {
      const v = this.value(root as A.Expression);
      const slots = (): number => this.slotCount;
      const ev = v.ev;
      return {
        evaluate: (scope) => bounded(scope, () => normalize(ev(new Frame(scope, slots())))),
      };
    }
    const block = root as A.Block;
    const body = this.block(block);
    if (!this.alwaysReturns(block)) {
      const at = block.end;
      this.diagnostics.push({ key: 'ExprNotAllPathsReturn', start: block.pos, end: Math.max(block.pos, at), args: [] });
    }
    return {
      evaluate: (scope) =>
        bounded(scope, () => {
          const f = new Frame(scope, this.slotCount);
          body(f);
          return normalize(f.ret);
        }),
    };
  }

  // ---- types ----
  private resolveType(t: A.TypeNode): TypeArgument | undefined {
    if (t.name === '') return undefined;
    if (t.name === 'var' || t.name === 'dynamic') {
      this.error(t.name === 'var' ? 'ExprSyntax' : 'ExprUnsupported', t, [t.name === 'var' ? "The contextual keyword 'var' may only appear within a local variable declaration." : "The 'dynamic' type"]);
      return undefined;
    }
    const entry = lookupType(t.name);
    if (!entry) {
      this.error('ExprUnknownType', t, [t.name]);
      return undefined;
    }
    if (entry.kind === 'unsupported') {
      this.error('ExprUnsupported', t, [`The type '${t.name}'`]);
      return undefined;
    }
    const args: TypeArgument[] = [];
    for (const a of t.args) {
      const r = this.resolveType(a);
      if (!r) return undefined;
      args.push(r);
    }
    if ((entry.arity ?? 0) !== args.length && entry.kind !== 'host') {
      this.error('ExprSyntax', t, [`Using the ${entry.arity ? 'generic' : 'non-generic'} type '${t.name}' requires ${entry.arity ?? 0} type arguments.`]);
      return undefined;
    }
    return { name: entry.name, args, arrays: t.arrays, nullable: t.nullable };
  }

  // ---- expressions ----
  private value(e: A.Expression): Value {
    const o = this.operand(e);
    if (o.kind === 'value') return o;
    this.error('ExprSyntax', e, [o.kind === 'type' ? `'${o.written}' is a type, which is not valid in the given context.` : `'${o.name}' is a namespace, which is not valid in the given context.`]);
    return { kind: 'value', ev: () => null, type: 'Dynamic' };
  }

  private operand(e: A.Expression): Operand {
    switch (e.kind) {
      case 'Identifier':
        return this.identifier(e);
      case 'PredefinedType': {
        const entry = lookupType(e.name)!;
        return { kind: 'type', name: entry.name, written: e.name };
      }
      case 'Member':
        return this.member(e);
      default:
        return this.expr(e);
    }
  }

  private identifier(e: A.Identifier): Operand {
    const local = this.lookup(e.name);
    if (local) {
      const slot = local.slot;
      return { kind: 'value', ev: (f) => f.locals[slot], type: local.type };
    }
    if (e.name === 'context') return { kind: 'value', ev: (f) => f.scope.context, type: 'Dynamic', schema: 'IProxyRequestContext' };
    const entry = lookupType(e.name);
    if (entry) {
      if (entry.kind === 'unsupported') this.error('ExprUnsupported', e, [`The type '${e.name}'`]);
      return { kind: 'type', name: entry.name, written: e.name };
    }
    if (NAMESPACES.has(e.name)) return { kind: 'namespace', name: e.name };
    this.error('ExprUnknownName', e, [e.name]);
    return { kind: 'value', ev: () => null, type: 'Dynamic' };
  }

  private staticMember(t: TypeRef, name: string, node: { pos: number; end: number }): StaticMember | undefined {
    const member = STATIC_TYPES[t.name]?.members[name];
    if (!member) {
      const entry = typeEntry(t.name);
      if (entry?.kind === 'host') this.error('ExprUnsupported', node, [`Static members of '${t.written}'`]);
      else if (entry?.kind !== 'unsupported') this.error('ExprUnknownMember', node, [t.written, name]);
    }
    return member;
  }

  private member(e: A.Member): Operand {
    const target = this.operand(e.object);
    const nameNode = { pos: e.namePos, end: e.end };
    if (JS_RESERVED_MEMBERS.has(e.name)) {
      this.error('ExprUnknownMember', nameNode, [receiverName(target), e.name]);
      return { kind: 'value', ev: () => null, type: 'Dynamic' };
    }
    if (target.kind === 'namespace') {
      const full = `${target.name}.${e.name}`;
      if (NAMESPACES.has(full)) return { kind: 'namespace', name: full };
      const entry = lookupType(full);
      if (!entry) {
        this.error('ExprUnknownType', e, [full]);
        return { kind: 'value', ev: () => null, type: 'Dynamic' };
      }
      if (entry.kind === 'unsupported') this.error('ExprUnsupported', e, [`The type '${full}'`]);
      return { kind: 'type', name: entry.name, written: full };
    }
    if (target.kind === 'type') {
      const m = this.staticMember(target, e.name, nameNode);
      if (!m) return { kind: 'value', ev: () => null, type: 'Dynamic' };
      if (m.get) {
        const get = m.get;
        return { kind: 'value', ev: (f) => get(f), type: m.returns ?? 'Dynamic' };
      }
      const call = m.call!;
      return { kind: 'value', ev: (f) => (...args: unknown[]) => call(f, args, undefined), type: 'Delegate' };
    }
    // Instance member.
    let type = 'Dynamic';
    let schema: string | undefined;
    if (target.schema) {
      const model = CONTEXT_MODEL[target.schema];
      const m = model?.[e.name];
      if (model && m === undefined && !UNIVERSAL_METHODS[e.name]) {
        this.error('ExprUnknownMember', nameNode, [target.schema, e.name]);
      } else if (m && !m.startsWith('method:')) {
        if (CONTEXT_MODEL[m]) schema = m;
        else type = m;
      }
    } else {
      type = MEMBER_TYPES[target.type]?.[e.name] ?? (target.type.endsWith('[]') && e.name === 'Length' ? 'Int32' : 'Dynamic');
    }
    const obj = target.ev;
    const name = e.name;
    const span = this.span(e);
    const v: Value = {
      kind: 'value',
      ev: (f) => {
        try {
          return normalize(getMember(obj(f), name));
        } catch (err) {
          throw attach(err, span);
        }
      },
      type,
    };
    if (schema) v.schema = schema;
    return v;
  }

  private expr(e: A.Expression): Value {
    switch (e.kind) {
      case 'Literal':
        return this.literal(e);
      case 'Interpolated':
        return this.interpolated(e);
      case 'ConditionalAccess':
        return this.conditionalAccess(e);
      case 'ConditionalReceiver': {
        const r = this.receivers[this.receivers.length - 1]!;
        const slot = r.slot;
        const v: Value = { kind: 'value', ev: (f) => f.locals[slot], type: r.type };
        if (r.schema) v.schema = r.schema;
        return v;
      }
      case 'Call':
        return this.call(e);
      case 'Index':
        return this.index(e);
      case 'Unary':
        return this.unary(e);
      case 'Postfix':
        return this.increment(e.operand, e.op, true, e);
      case 'Binary':
        return this.binary(e);
      case 'Conditional':
        return this.conditional(e);
      case 'Assign':
        return this.assign(e);
      case 'Cast':
        return this.cast(e);
      case 'As': {
        const operand = this.value(e.operand);
        const t = this.resolveType(e.type);
        if (!t) return operand;
        const ev = operand.ev;
        return { kind: 'value', ev: (f) => asType(ev(f), t), type: typeName(t) };
      }
      case 'Is':
        return this.is(e);
      case 'Lambda':
        return this.lambda(e);
      case 'New':
        return this.newObject(e);
      case 'NewArray':
        return this.newArray(e);
      case 'NewAnonymous': {
        const members = e.members.map((m) => ({ name: m.name, ev: this.value(m.value).ev }));
        return { kind: 'value', ev: (f) => new CsAnonymous(members.map((m) => [m.name, m.ev(f)])), type: 'Dynamic' };
      }
      case 'Typeof':
        this.error('ExprUnsupported', e, ["'typeof'"]);
        return { kind: 'value', ev: () => null, type: 'Dynamic' };
      case 'Default': {
        if (!e.type) return { kind: 'value', ev: () => null, type: 'Null', constant: true };
        const t = this.resolveType(e.type);
        const v = t ? defaultValueOf(t.arrays ? undefined : t.name, t.nullable) : null;
        return { kind: 'value', ev: () => v, type: t ? typeName(t) : 'Dynamic', constant: true };
      }
      case 'Missing':
        return { kind: 'value', ev: () => null, type: 'Dynamic' };
      case 'Identifier':
      case 'PredefinedType':
      case 'Member':
        return this.value(e);
    }
  }

  private literal(e: A.Literal): Value {
    const v = e.value;
    const type = e.type === 'Single' ? 'Double' : e.type;
    return { kind: 'value', ev: () => v, type, constant: true };
  }

  private interpolated(e: A.Interpolated): Value {
    const parts = e.parts.map((p) => {
      if (typeof p === 'string') return p;
      const ev = this.value(p.expr).ev;
      const alignEv = p.alignment ? this.value(p.alignment).ev : undefined;
      return { ev, alignEv, format: p.format };
    });
    const span = this.span(e);
    return {
      kind: 'value',
      ev: (f) => {
        let out = '';
        for (const p of parts) {
          if (typeof p === 'string') out += p;
          else {
            try {
              const s = formatValue(p.ev(f), p.format);
              out += p.alignEv ? align(s, Number(p.alignEv(f))) : s;
            } catch (err) {
              throw attach(err, span);
            }
          }
        }
        return out;
      },
      type: 'String',
    };
  }

  private conditionalAccess(e: A.ConditionalAccess): Value {
    const recv = this.value(e.receiver);
    const slot = this.tempSlot();
    const binding: { slot: number; type: string; schema?: string } = { slot, type: recv.type };
    if (recv.schema) binding.schema = recv.schema;
    this.receivers.push(binding);
    const body = this.value(e.body);
    this.receivers.pop();
    const r = recv.ev;
    const b = body.ev;
    const v: Value = {
      kind: 'value',
      ev: (f) => {
        const x = r(f);
        if (x === null || x === undefined) return null;
        f.locals[slot] = x;
        return b(f);
      },
      type: body.type,
    };
    if (body.schema) v.schema = body.schema;
    return v;
  }

  /** Compiles arguments; `out` arguments become OutRefs whose values are written back after the call. */
  private args(args: A.Argument[]): { evs: Ev[]; types: string[]; names: Array<string | undefined> | undefined; outs: Array<{ index: number; slot: number | undefined; type?: TypeArgument }> } {
    const evs: Ev[] = [];
    const types: string[] = [];
    const outs: Array<{ index: number; slot: number | undefined; type?: TypeArgument }> = [];
    let names: Array<string | undefined> | undefined;
    args.forEach((a, i) => {
      if (a.name !== undefined) {
        names ??= new Array<string | undefined>(args.length).fill(undefined);
        names[i] = a.name;
      }
      if (a.out) {
        let slot: number | undefined;
        let type: TypeArgument | undefined;
        if (a.out.name === '_' && (a.out.declare !== undefined || !this.lookup('_'))) slot = undefined;
        else if (a.out.declare !== undefined) {
          type = a.out.declare === 'var' ? undefined : this.resolveType(a.out.declare);
          slot = this.declare(a.out.name, type ? typeName(type) : 'Dynamic', a.value).slot;
        } else {
          const local = this.lookup(a.out.name);
          if (!local) this.error('ExprUnknownName', a.value, [a.out.name]);
          slot = local?.slot;
        }
        const out: { index: number; slot: number | undefined; type?: TypeArgument } = { index: i, slot };
        if (type) out.type = type;
        outs.push(out);
        evs.push(() => new OutRef());
        types.push('Dynamic');
      } else {
        const v = this.value(a.value);
        evs.push(v.ev);
        types.push(v.type);
      }
    });
    return { evs, types, names, outs };
  }

  private resolveTypeArgs(nodes: A.TypeNode[] | undefined): TypeArgument[] | undefined {
    if (!nodes) return undefined;
    const out: TypeArgument[] = [];
    for (const n of nodes) {
      const t = this.resolveType(n);
      if (!t) return undefined;
      out.push(t);
    }
    return out;
  }

  private call(e: A.Call): Value {
    const span = this.span(e);
    const callee = e.callee;
    const { evs, types, names, outs } = this.args(e.args);
    const n = evs.length;
    const evalArgs = (f: Frame): unknown[] => {
      const a = new Array<unknown>(n);
      for (let i = 0; i < n; i++) a[i] = evs[i]!(f);
      return a;
    };
    const writeBack = outs.length
      ? (f: Frame, a: unknown[]) => {
          for (const o of outs) {
            if (o.slot !== undefined) {
              const v = normalize((a[o.index] as OutRef).value);
              f.locals[o.slot] = o.type ? castTo(v, o.type, 'Dynamic') : v;
            }
          }
        }
      : undefined;
    if (callee.kind === 'Member') {
      const target = this.operand(callee.object);
      const typeArgs = this.resolveTypeArgs(callee.typeArgs);
      const name = callee.name;
      const nameNode = { pos: callee.namePos, end: callee.end };
      if (JS_RESERVED_MEMBERS.has(name)) {
        this.error('ExprUnknownMember', nameNode, [receiverName(target), name]);
        return { kind: 'value', ev: () => null, type: 'Dynamic' };
      }
      if (target.kind === 'namespace') {
        this.error('ExprUnknownType', callee, [`${target.name}.${name}`]);
        return { kind: 'value', ev: () => null, type: 'Dynamic' };
      }
      if (target.kind === 'type') {
        const m = this.staticMember(target, name, nameNode);
        if (!m) return { kind: 'value', ev: () => null, type: 'Dynamic' };
        if (!m.call) {
          this.error('ExprSyntax', nameNode, [`Non-invocable member '${target.written}.${name}' cannot be used like a method.`]);
          return { kind: 'value', ev: () => null, type: 'Dynamic' };
        }
        const fn = m.call;
        const info = m.info;
        let returns = m.returns ?? 'Dynamic';
        if (returns === 'Dynamic' && name === 'DeserializeObject' && typeArgs?.[0]) returns = typeName(typeArgs[0]);
        return {
          kind: 'value',
          ev: (f) => {
            const a = evalArgs(f);
            try {
              const r = fn(f, arrangeArguments(info, a, names, name), typeArgs, types);
              writeBack?.(f, a);
              return normalize(r);
            } catch (err) {
              throw attach(err, span);
            }
          },
          type: returns,
        };
      }
      // Instance method.
      if (APIM_EXTENSIONS_NOT_EMULATED.has(name)) this.error('ExprUnsupported', nameNode, [`The APIM extension method '${name}'`]);
      if (target.schema) {
        const model = CONTEXT_MODEL[target.schema];
        const known = model?.[name];
        const linqOk = CONTEXT_ENUMERABLE.has(target.schema) && LINQ[name] !== undefined;
        if (model && known === undefined && !UNIVERSAL_METHODS[name] && !linqOk) this.error('ExprUnknownMember', nameNode, [target.schema, name]);
        else if (known !== undefined && !known.startsWith('method:')) {
          this.error('ExprSyntax', nameNode, [`Non-invocable member '${name}' cannot be used like a method.`]);
        }
      }
      const type = methodResultType(target, name, typeArgs);
      const obj = target.ev;
      const site: CallSite = { typeArgs, names };
      return {
        kind: 'value',
        ev: (f) => {
          const self = obj(f);
          const a = evalArgs(f);
          try {
            const r = invokeMember(self, name, a, site);
            writeBack?.(f, a);
            return normalize(r);
          } catch (err) {
            throw attach(err, span);
          }
        },
        type,
      };
    }
    // Delegate invocation: `f(x)` (a lambda in a local, or a local function).
    const calleeLocal = callee.kind === 'Identifier' ? this.lookup(callee.name) : undefined;
    if (callee.kind === 'Identifier' && !calleeLocal) {
      this.error('ExprUnknownName', callee, [callee.name]);
      return { kind: 'value', ev: () => null, type: 'Dynamic' };
    }
    if (calleeLocal?.arity !== undefined && calleeLocal.arity !== e.args.length && callee.kind === 'Identifier') {
      this.error('ExprSyntax', callee, [`No overload for method '${callee.name}' takes ${e.args.length} arguments.`]);
    }
    const resultType = calleeLocal?.returns && calleeLocal.returns !== 'Void' ? calleeLocal.returns : 'Dynamic';
    const fnv = this.value(callee).ev;
    return {
      kind: 'value',
      ev: (f) => {
        const fn = fnv(f);
        const a = evalArgs(f);
        try {
          if (typeof fn !== 'function') {
            if (fn === null || fn === undefined) throw clrErrors.nullReference();
            throw clrErrors.invalidOperation(`Non-invocable value of type '${typeNameOf(fn)}' cannot be used like a method.`);
          }
          return normalize((fn as (...x: unknown[]) => unknown)(...a));
        } catch (err) {
          throw attach(err, span);
        }
      },
      type: resultType,
    };
  }

  private index(e: A.Index): Value {
    if (e.args.length !== 1) {
      this.error(e.args.length === 0 ? 'ExprSyntax' : 'ExprUnsupported', e, [e.args.length === 0 ? 'Value expected.' : 'Multi-dimensional indexers']);
      return { kind: 'value', ev: () => null, type: 'Dynamic' };
    }
    const obj = this.value(e.object);
    const key = this.value(e.args[0]!).ev;
    const span = this.span(e);
    let type = 'Dynamic';
    if (obj.schema) type = CONTEXT_INDEXERS[obj.schema] ?? 'Dynamic';
    else if (obj.type === 'String') type = 'Char';
    else if (obj.type.endsWith('[]')) type = obj.type.slice(0, -2);
    else if (obj.type === 'JObject' || obj.type === 'JArray' || obj.type === 'JToken') type = 'JToken';
    const o = obj.ev;
    return {
      kind: 'value',
      ev: (f) => {
        const target = o(f);
        const k = key(f);
        try {
          return normalize(getIndex(target, k));
        } catch (err) {
          throw attach(err, span);
        }
      },
      type,
    };
  }

  private unary(e: A.Unary): Value {
    if (e.op === '++' || e.op === '--') return this.increment(e.operand, e.op, false, e);
    const operand = this.value(e.operand);
    const ev = operand.ev;
    const span = this.span(e);
    switch (e.op) {
      case '!':
        return {
          kind: 'value',
          ev: (f) => {
            const v = ev(f);
            if (typeof v === 'boolean') return !v;
            if (v === null || v === undefined) return null;
            throw attach(clrErrors.invalidCast(typeNameOf(v), 'System.Boolean'), span);
          },
          type: 'Boolean',
        };
      case '-':
      case '+':
      case '~': {
        const op = e.op;
        return {
          kind: 'value',
          ev: (f) => {
            const v = ev(f);
            if (v === null || v === undefined) return null;
            if (v instanceof CsTimeSpan && op === '-') return v.Negate();
            if (typeof v !== 'number') throw attach(clrErrors.invalidOperation(`Operator '${op}' cannot be applied to operand of type '${typeNameOf(v)}'`), span);
            return op === '-' ? (v === 0 ? 0 : -v) : op === '+' ? v : ~v;
          },
          type: operand.type === 'Char' ? 'Int32' : operand.type,
        };
      }
    }
  }

  // ---- assignment targets ----
  private lvalue(target: A.Expression): { bind: (f: Frame) => { get(): unknown; set(v: unknown): void }; type: string } | undefined {
    if (target.kind === 'Identifier') {
      const local = this.lookup(target.name);
      if (!local) {
        if (target.name === 'context' || lookupType(target.name)) this.error('ExprNotAssignable', target);
        else this.error('ExprUnknownName', target, [target.name]);
        return undefined;
      }
      const slot = local.slot;
      return { bind: (f) => ({ get: () => f.locals[slot], set: (v) => void (f.locals[slot] = v) }), type: local.type };
    }
    if (target.kind === 'Member') {
      const obj = this.operand(target.object);
      if (obj.kind !== 'value') {
        this.error('ExprUnsupported', target, ['Assigning static members']);
        return undefined;
      }
      const o = obj.ev;
      const name = target.name;
      return {
        bind: (f) => {
          const self = o(f);
          return { get: () => normalize(getMember(self, name)), set: (v) => setMember(self, name, v) };
        },
        type: 'Dynamic',
      };
    }
    if (target.kind === 'Index' && target.args.length === 1) {
      const o = this.value(target.object).ev;
      const k = this.value(target.args[0]!).ev;
      return {
        bind: (f) => {
          const self = o(f);
          const key = k(f);
          return { get: () => normalize(getIndex(self, key)), set: (v) => setIndex(self, key, v) };
        },
        type: 'Dynamic',
      };
    }
    this.error('ExprNotAssignable', target);
    return undefined;
  }

  private increment(target: A.Expression, op: '++' | '--', postfix: boolean, node: A.Node): Value {
    const lv = this.lvalue(target);
    if (!lv) return { kind: 'value', ev: () => null, type: 'Dynamic' };
    const span = this.span(node);
    const delta = op === '++' ? 1 : -1;
    const bind = lv.bind;
    // `int` wraps as in C#'s default unchecked context (`int.MaxValue + 1` is `int.MinValue`).
    const int32 = lv.type === 'Int32';
    return {
      kind: 'value',
      ev: (f) => {
        try {
          const ref = bind(f);
          const old = ref.get();
          if (typeof old !== 'number') throw clrErrors.invalidOperation(`Operator '${op}' cannot be applied to operand of type '${typeNameOf(old)}'`);
          const next = int32 ? wrapInt32(old + delta) : old + delta;
          ref.set(next);
          return postfix ? old : next;
        } catch (err) {
          throw attach(err, span);
        }
      },
      type: lv.type,
    };
  }

  private assign(e: A.Assign): Value {
    const lv = this.lvalue(e.target);
    const value = this.value(e.value);
    if (!lv) return { kind: 'value', ev: () => null, type: 'Dynamic' };
    const span = this.span(e);
    const bind = lv.bind;
    const v = value.ev;
    if (e.op === '=') {
      return {
        kind: 'value',
        ev: (f) => {
          try {
            const ref = bind(f);
            const x = v(f);
            ref.set(x);
            return x;
          } catch (err) {
            throw attach(err, span);
          }
        },
        type: lv.type === 'Dynamic' ? value.type : lv.type,
      };
    }
    const op = e.op.slice(0, -1);
    const integral = isIntegralType(lv.type) && isIntegralType(value.type) ? true : FLOATING_TYPES.has(lv.type) || FLOATING_TYPES.has(value.type) ? false : undefined;
    const combine = this.binaryFn(op, integral, lv.type, value.type);
    return {
      kind: 'value',
      ev: (f) => {
        try {
          const ref = bind(f);
          const old = ref.get();
          if (op === '??') {
            if (old !== null && old !== undefined) return old;
            const x = v(f);
            ref.set(x);
            return x;
          }
          const x = combine(old, v(f));
          ref.set(x);
          return x;
        } catch (err) {
          throw attach(err, span);
        }
      },
      type: lv.type,
    };
  }

  private binaryFn(op: string, integral: boolean | undefined, lt: string, rt: string): (l: unknown, r: unknown) => unknown {
    const int32 = numericResult(lt, rt) === 'Int32';
    switch (op) {
      case '+':
        if (lt === 'String' || rt === 'String') return (l, r) => checkString(toCSharpString(l) + toCSharpString(r));
        if (lt === 'Char' || rt === 'Char') {
          // char + char / char + int are int arithmetic in C#.
          const code = (v: unknown, t: string) => (t === 'Char' && typeof v === 'string' ? v.charCodeAt(0) : v);
          return (l, r) => add(code(l, lt), code(r, rt));
        }
        return int32 ? (l, r) => (typeof l === 'number' && typeof r === 'number' ? wrapInt32(l + r) : add(l, r)) : add;
      case '-':
        if (lt === 'Char' || rt === 'Char') {
          const code = (v: unknown, t: string) => (t === 'Char' && typeof v === 'string' ? v.charCodeAt(0) : v);
          return (l, r) => subtract(code(l, lt), code(r, rt));
        }
        return int32 ? (l, r) => (typeof l === 'number' && typeof r === 'number' ? wrapInt32(l - r) : subtract(l, r)) : subtract;
      case '*':
        return (l, r) => {
          const n = nums('*', l, r);
          if (!n) return null;
          return int32 ? Math.imul(n[0], n[1]) : n[0] * n[1];
        };
      case '/':
        return (l, r) => divide(l, r, integral);
      case '%':
        return (l, r) => remainder(l, r, integral);
      case '&':
      case '|':
      case '^':
      case '<<':
      case '>>': {
        const wide = LONG_TYPES.has(lt) || (op !== '<<' && op !== '>>' && LONG_TYPES.has(rt));
        return wide ? (l, r) => bitwise(op, l, r, true) : (l, r) => bitwise(op, l, r);
      }
      case '==':
        return (l, r) => csEquals(l, r);
      case '!=':
        return (l, r) => !csEquals(l, r);
      case '<':
      case '>':
      case '<=':
      case '>=':
        return (l, r) => compare(op, l, r);
    }
    return () => {
      throw clrErrors.invalidOperation(`Operator '${op}' is not supported.`);
    };
  }

  private binary(e: A.Binary): Value {
    const left = this.value(e.left);
    const right = this.value(e.right);
    const l = left.ev;
    const r = right.ev;
    const span = this.span(e);
    const op = e.op;
    if (op === '&&' || op === '||') {
      const and = op === '&&';
      return {
        kind: 'value',
        ev: (f) => {
          let a: boolean;
          try {
            a = truthy(l(f));
          } catch (err) {
            throw attach(err, this.span(e.left));
          }
          if (and ? !a : a) return a;
          try {
            return truthy(r(f));
          } catch (err) {
            throw attach(err, this.span(e.right));
          }
        },
        type: 'Boolean',
      };
    }
    if (op === '??') {
      return {
        kind: 'value',
        ev: (f) => {
          const a = l(f);
          return a === null || a === undefined ? r(f) : a;
        },
        type: left.type === right.type ? left.type : left.type === 'Null' ? right.type : 'Dynamic',
      };
    }
    const integral = isIntegralType(left.type) && isIntegralType(right.type) ? true : FLOATING_TYPES.has(left.type) || FLOATING_TYPES.has(right.type) ? false : undefined;
    const fn = this.binaryFn(op, integral, left.type, right.type);
    let type: string;
    if (['==', '!=', '<', '>', '<=', '>='].includes(op)) type = 'Boolean';
    else if (op === '+' && (left.type === 'String' || right.type === 'String')) type = 'String';
    else if (['&', '|', '^'].includes(op) && left.type === 'Boolean' && right.type === 'Boolean') type = 'Boolean';
    else if (isNumericType(left.type) || left.type === 'Char' || isNumericType(right.type)) type = numericResult(left.type, right.type);
    else type = 'Dynamic';
    return {
      kind: 'value',
      ev: (f) => {
        const a = l(f);
        const b = r(f);
        try {
          return fn(a, b);
        } catch (err) {
          throw attach(err, span);
        }
      },
      type,
    };
  }

  private conditional(e: A.Conditional): Value {
    const test = this.value(e.test).ev;
    const a = this.value(e.whenTrue);
    const b = this.value(e.whenFalse);
    const span = this.span(e.test);
    const x = a.ev;
    const y = b.ev;
    const type = a.type === b.type ? a.type : isNumericType(a.type) && isNumericType(b.type) ? numericResult(a.type, b.type) : a.type === 'Null' ? b.type : b.type === 'Null' ? a.type : 'Dynamic';
    return {
      kind: 'value',
      ev: (f) => {
        let c: boolean;
        try {
          c = truthy(test(f));
        } catch (err) {
          throw attach(err, span);
        }
        return c ? x(f) : y(f);
      },
      type,
    };
  }

  private cast(e: A.Cast): Value {
    const operand = this.value(e.operand);
    const t = this.resolveType(e.type);
    if (!t) return operand;
    const from = operand.type;
    const ev = operand.ev;
    const span = this.span(e);
    const isString = t.name === 'String' && t.arrays === 0;
    const v: Value = {
      kind: 'value',
      ev: (f) => {
        const x = ev(f);
        if (isString && (typeof x === 'string' || x === null)) return x;
        try {
          return castTo(x, t, from);
        } catch (err) {
          throw attach(err, span);
        }
      },
      type: typeEntry(t.name)?.kind === 'host' ? 'Dynamic' : typeName(t),
    };
    return v;
  }

  private is(e: A.Is): Value {
    const operand = this.value(e.operand);
    const ev = operand.ev;
    const negated = e.negated === true;
    if (e.constant) {
      const c = this.value(e.constant).ev;
      return { kind: 'value', ev: (f) => csEquals(ev(f), c(f)) !== negated, type: 'Boolean' };
    }
    const t = e.type ? this.resolveType(e.type) : undefined;
    if (!t) return { kind: 'value', ev: () => false, type: 'Boolean' };
    if (e.designation !== undefined) {
      const slot = this.declare(e.designation, typeName(t), e).slot;
      return {
        kind: 'value',
        ev: (f) => {
          const x = ev(f);
          const ok = isInstanceOf(x, t);
          if (ok) f.locals[slot] = x;
          return ok !== negated;
        },
        type: 'Boolean',
      };
    }
    return { kind: 'value', ev: (f) => isInstanceOf(ev(f), t) !== negated, type: 'Boolean' };
  }

  /**
   * A local function: compiled where it is written (it sees the locals declared before it), stored in its hoisted
   * slot when the enclosing block is entered. Parameters and body locals live in the evaluation's frame like a
   * lambda's; a recursive call saves and restores them, so each activation keeps its own.
   */
  private localFunction(lf: A.LocalFunction, local: Local, returns: TypeArgument | undefined): St {
    const slot = local.slot;
    const first = this.slotCount;
    const savedLoop = this.loopDepth;
    const savedBreak = this.breakDepth;
    const savedVoid = this.voidReturn;
    let body: Ev;
    const params: number[] = [];
    const types: Array<TypeArgument | undefined> = [];
    try {
      this.loopDepth = 0;
      this.breakDepth = 0;
      this.voidReturn = lf.returnType ? undefined : lf.name;
      body = this.withScope(() => {
        for (const p of lf.params) {
          const t = this.resolveType(p.type);
          types.push(t);
          params.push(this.declare(p.name, t ? typeName(t) : 'Dynamic', { pos: p.pos, end: p.pos + p.name.length }).slot);
        }
        if (lf.body.kind !== 'Block') {
          const v = this.value(lf.body).ev;
          return v;
        }
        if (lf.returnType && !this.alwaysReturns(lf.body)) this.error('ExprSyntax', { pos: lf.namePos, end: lf.namePos + lf.name.length }, [`'${lf.name}(…)': not all code paths return a value.`]);
        const block = this.block(lf.body);
        return (f: Frame) => {
          const saved = f.ret;
          f.ret = null;
          block(f);
          const r = f.ret;
          f.ret = saved;
          return r;
        };
      });
    } finally {
      this.loopDepth = savedLoop;
      this.breakDepth = savedBreak;
      this.voidReturn = savedVoid;
    }
    const last = this.slotCount;
    const n = params.length;
    const name = lf.name;
    const checked = (t: TypeArgument | undefined) => (t && t.arrays === 0 && !t.nullable && (INTEGRAL_TYPES.has(t.name) || t.name === 'String' || t.name === 'Boolean') ? t : undefined);
    const convert = types.map(checked);
    const result = checked(returns);
    return (f) => {
      let depth = 0;
      f.locals[slot] = (...args: unknown[]) => {
        if (args.length !== n) throw clrErrors.argument(`No overload for method '${name}' takes ${args.length} arguments.`);
        if ((++f.calls & TICK_MASK) === 0) checkDeadline();
        enterCall();
        const saved = depth > 0 ? f.locals.slice(first, last) : undefined;
        depth++;
        try {
          for (let i = 0; i < n; i++) {
            const t = convert[i];
            const v = normalize(args[i]);
            f.locals[params[i]!] = t ? castTo(v, t, 'Dynamic') : v;
          }
          const r = body(f);
          return result && r !== null && r !== undefined ? castTo(r, result, 'Dynamic') : r;
        } finally {
          depth--;
          if (saved) for (let i = 0; i < saved.length; i++) f.locals[first + i] = saved[i];
          exitCall();
        }
      };
      return NORMAL;
    };
  }

  private lambda(e: A.Lambda): Value {
    return this.withScope(() => {
      const slots = e.params.map((p) => {
        const t = p.type ? this.resolveType(p.type) : undefined;
        return this.declare(p.name, t ? typeName(t) : 'Dynamic', { pos: p.pos, end: p.pos + p.name.length }).slot;
      });
      const savedLoop = this.loopDepth;
      const savedBreak = this.breakDepth;
      this.loopDepth = 0;
      this.breakDepth = 0;
      let body: Ev;
      try {
        if (e.body.kind === 'Block') {
          const block = this.block(e.body);
          body = (f) => {
            const saved = f.ret;
            f.ret = null;
            block(f);
            const r = f.ret;
            f.ret = saved;
            return r;
          };
        } else body = this.value(e.body).ev;
      } finally {
        this.loopDepth = savedLoop;
        this.breakDepth = savedBreak;
      }
      const n = slots.length;
      return {
        kind: 'value',
        ev: (f) => (...args: unknown[]) => {
          if ((++f.calls & TICK_MASK) === 0) checkDeadline();
          enterCall();
          try {
            for (let i = 0; i < n; i++) f.locals[slots[i]!] = normalize(args[i]);
            return body(f);
          } finally {
            exitCall();
          }
        },
        type: 'Delegate',
      };
    });
  }

  private newObject(e: A.New): Value {
    const t = this.resolveType(e.type);
    const { evs, names } = this.args(e.args);
    if (names) this.error('ExprUnsupported', e, ['Named constructor arguments']);
    if (!t) return { kind: 'value', ev: () => null, type: 'Dynamic' };
    const st = STATIC_TYPES[t.name];
    if (!st?.construct) {
      this.error('ExprUnsupported', e.type, [`Creating instances of '${e.type.name}'`]);
      return { kind: 'value', ev: () => null, type: 'Dynamic' };
    }
    const construct = st.construct;
    const typeArgs = t.args.length ? t.args : undefined;
    const span = this.span(e);
    let init: ((f: Frame, obj: unknown) => void) | undefined;
    if (e.initializer?.kind === 'collection') {
      const items = e.initializer.items.map((group) => group.map((x) => this.value(x).ev));
      const site: CallSite = { typeArgs: undefined, names: undefined };
      init = (f, obj) => {
        for (const group of items) invokeMember(obj, 'Add', group.map((g) => g(f)), site);
      };
    } else if (e.initializer?.kind === 'object') {
      const members = e.initializer.members.map((m) => ({
        name: m.name,
        index: m.index?.map((x) => this.value(x).ev),
        value: this.value(m.value).ev,
      }));
      init = (f, obj) => {
        for (const m of members) {
          if (m.index) setIndex(obj, m.index[0]!(f), m.value(f));
          else setMember(obj, m.name!, m.value(f));
        }
      };
    }
    return {
      kind: 'value',
      ev: (f) => {
        const a = evs.map((x) => x(f));
        try {
          const obj = construct(f, a, typeArgs);
          if (init) init(f, obj);
          return obj;
        } catch (err) {
          throw attach(err, span);
        }
      },
      type: st.constructs ?? typeName(t),
    };
  }

  private newArray(e: A.NewArray): Value {
    const t = e.elementType ? this.resolveType(e.elementType) : undefined;
    const items = e.items?.map((x) => this.value(x));
    const size = e.size ? this.value(e.size).ev : undefined;
    let elem = t ? typeName(t) : items?.[0]?.type ?? 'Object';
    if (!t && items && items.some((i) => i.type !== elem)) elem = 'Object';
    const isBytes = t?.name === 'Byte' && t.arrays === 0;
    const fill = t ? defaultValueOf(t.arrays ? undefined : t.name, t.nullable) : null;
    const span = this.span(e);
    const evs = items?.map((i) => i.ev);
    return {
      kind: 'value',
      ev: (f) => {
        if (evs) {
          const arr = evs.map((x) => x(f));
          return isBytes ? Uint8Array.from(arr as number[]) : arr;
        }
        const n = size!(f);
        if (typeof n !== 'number' || n < 0) throw attach(clrErrors.overflow('an array size'), span);
        checkCollectionSize(n);
        return isBytes ? new Uint8Array(n) : new Array<unknown>(n).fill(fill);
      },
      type: `${elem}[]`,
    };
  }

  // ---- statements ----
  private block(b: A.Block): St {
    return this.withScope(() => {
      // Local functions are in scope in the whole block (callable before their declaration, and recursively):
      // their names are declared first and their closures created when the block is entered.
      const functions = b.statements.filter((s): s is A.LocalFunction => s.kind === 'LocalFunction');
      const hoisted = new Map<A.LocalFunction, { local: Local; returns: TypeArgument | undefined }>();
      for (const lf of functions) {
        const returns = lf.returnType ? this.resolveType(lf.returnType) : undefined;
        const local = this.declare(lf.name, 'Delegate', { pos: lf.namePos, end: lf.namePos + lf.name.length });
        local.returns = returns ? typeName(returns) : lf.returnType ? 'Dynamic' : 'Void';
        local.arity = lf.params.length;
        hoisted.set(lf, { local, returns });
      }
      const inits: St[] = [];
      const list = b.statements.flatMap((s) => {
        if (s.kind !== 'LocalFunction') return [this.statement(s)];
        const h = hoisted.get(s)!;
        inits.push(this.localFunction(s, h.local, h.returns));
        return [];
      });
      list.unshift(...inits);
      const n = list.length;
      if (n === 1) return list[0]!;
      return (f) => {
        for (let i = 0; i < n; i++) {
          const c = list[i]!(f);
          if (c !== NORMAL) return c;
        }
        return NORMAL;
      };
    });
  }

  private statement(s: A.Statement): St {
    switch (s.kind) {
      case 'Block':
        return this.block(s);
      case 'LocalFunction':
        // Only reached for an embedded statement (`if (x) void F() {}`), which C# rejects.
        this.error('ExprSyntax', s, ['Embedded statement cannot be a declaration or labeled statement.']);
        return () => NORMAL;
      case 'Empty':
        return () => NORMAL;
      case 'LocalDecl':
        return this.localDecl(s);
      case 'ExpressionStatement': {
        const e = s.expr;
        const last = e.kind === 'ConditionalAccess' ? innermost(e.body) : e;
        const ok = ['Assign', 'Call', 'Postfix', 'New', 'Missing'].includes(last.kind) || (last.kind === 'Unary' && (last.op === '++' || last.op === '--'));
        if (!ok) this.error('ExprInvalidStatement', e);
        const ev = this.value(e).ev;
        return (f) => {
          ev(f);
          return NORMAL;
        };
      }
      case 'If': {
        const test = this.value(s.test).ev;
        const then = this.withScope(() => this.statement(s.then));
        const otherwise = s.else ? this.withScope(() => this.statement(s.else!)) : undefined;
        const span = this.span(s.test);
        return (f) => {
          let c: boolean;
          try {
            c = truthy(test(f));
          } catch (err) {
            throw attach(err, span);
          }
          if (c) return then(f);
          return otherwise ? otherwise(f) : NORMAL;
        };
      }
      case 'Return': {
        const ev = s.expr ? this.value(s.expr).ev : undefined;
        if (this.voidReturn !== undefined) {
          if (ev) this.error('ExprSyntax', s, [`Since '${this.voidReturn}' returns void, a return keyword must not be followed by an object expression.`]);
        } else if (!ev) this.error('ExprSyntax', s, ['An object of a type convertible to the result type is required after return.']);
        return (f) => {
          f.ret = ev ? ev(f) : null;
          return RETURN;
        };
      }
      case 'Foreach':
        return this.foreach(s);
      case 'For':
        return this.forLoop(s);
      case 'While':
      case 'DoWhile': {
        const test = this.value(s.test).ev;
        const body = this.loopBody(s.body);
        const span = this.span(s.test);
        const isDo = s.kind === 'DoWhile';
        return (f) => {
          for (let first = true; ; first = false) {
            if (!(isDo && first)) {
              let c: boolean;
              try {
                c = truthy(test(f));
              } catch (err) {
                throw attach(err, span);
              }
              if (!c) return NORMAL;
            }
            this.guard(f, span);
            const r = body(f);
            if (r === BREAK) return NORMAL;
            if (r === RETURN) return RETURN;
          }
        };
      }
      case 'Break':
      case 'Continue':
        if ((s.kind === 'Break' ? this.breakDepth : this.loopDepth) === 0) this.error('ExprNoEnclosingLoop', s);
        return s.kind === 'Break' ? () => BREAK : () => CONTINUE;
      case 'Throw': {
        const span = this.span(s);
        if (!s.expr) {
          const slot = this.catchSlots[this.catchSlots.length - 1];
          if (slot === undefined) this.error('ExprSyntax', s, ['A throw statement with no arguments is not allowed outside of a catch clause.']);
          return (f) => {
            throw slot === undefined ? clrErrors.invalidOperation('No exception to rethrow.') : f.locals[slot];
          };
        }
        const ev = this.value(s.expr).ev;
        return (f) => {
          const v = ev(f);
          if (isExceptionValue(v)) {
            const err = new ExpressionRuntimeError(v.type, v.Message, span);
            throw err;
          }
          if (v === null || v === undefined) throw attach(clrErrors.nullReference(), span);
          throw attach(clrErrors.invalidCast(typeNameOf(v), 'System.Exception'), span);
        };
      }
      case 'Try':
        return this.tryStatement(s);
      case 'Switch':
        return this.switchStatement(s);
      case 'Using': {
        return this.withScope(() => {
          let resource: Ev | undefined;
          if (s.decl) {
            const declSt = this.localDecl(s.decl);
            const slot = this.lookup(s.decl.declarators[0]?.name ?? '')?.slot;
            resource = (f) => {
              declSt(f);
              return slot === undefined ? null : f.locals[slot];
            };
          } else if (s.expr) resource = this.value(s.expr).ev;
          const body = s.body ? this.statement(s.body) : () => NORMAL;
          const res = resource!;
          return (f) => {
            const r = res(f);
            try {
              return body(f);
            } finally {
              const dispose = (r as { Dispose?: () => void } | null)?.Dispose;
              if (typeof dispose === 'function') dispose.call(r);
            }
          };
        });
      }
    }
  }

  private guard(f: Frame, span: Span): void {
    if (++f.iterations > MAX_LOOP_ITERATIONS) {
      throw new ExpressionRuntimeError('System.InvalidOperationException', `The emulator stopped a loop after ${MAX_LOOP_ITERATIONS} iterations.`, span);
    }
    if ((f.iterations & TICK_MASK) === 0) checkDeadline();
  }

  private loopBody(body: A.Statement): St {
    this.loopDepth++;
    this.breakDepth++;
    try {
      return this.withScope(() => this.statement(body));
    } finally {
      this.loopDepth--;
      this.breakDepth--;
    }
  }

  private localDecl(s: A.LocalDecl): St {
    const steps: Array<(f: Frame) => void> = [];
    for (const d of s.declarators) {
      let type: TypeArgument | undefined;
      if (s.type !== 'var') type = this.resolveType(s.type);
      // `T x = default;` is default(T) (the target-typed `default` literal).
      const targetDefault = type !== undefined && d.init?.kind === 'Default' && !d.init.type;
      const init = d.init && !targetDefault ? this.value(d.init) : undefined;
      if (s.type === 'var' && !d.init) this.error('ExprSyntax', d, ['Implicitly-typed variables must be initialized.']);
      if (s.type === 'var' && init?.type === 'Null') this.error('ExprSyntax', d, ["Cannot assign <null> to an implicitly-typed variable."]);
      const staticType = type ? typeName(type) : (init?.type ?? 'Dynamic');
      const local = this.declare(d.name, staticType === 'Null' ? 'Dynamic' : staticType, d);
      const slot = local.slot;
      const def = type ? defaultValueOf(type.arrays ? undefined : type.name, type.nullable) : null;
      if (init) {
        const ev = init.ev;
        const needsCheck = type && (type.name === 'String' || INTEGRAL_TYPES.has(type.name) || type.name === 'Boolean') && type.arrays === 0 && !['Dynamic', 'Null', type.name].includes(init.type) && !(isNumericType(type.name) && isNumericType(init.type) && !FLOATING_TYPES.has(init.type));
        if (needsCheck) {
          const t = type!;
          const from = init.type;
          const span = this.span(d);
          steps.push((f) => {
            const v = ev(f);
            try {
              f.locals[slot] = castTo(v, t, from);
            } catch (err) {
              throw attach(err, span);
            }
          });
        } else steps.push((f) => void (f.locals[slot] = ev(f)));
      } else steps.push((f) => void (f.locals[slot] = def));
    }
    return (f) => {
      for (const step of steps) step(f);
      return NORMAL;
    };
  }

  private foreach(s: A.Foreach): St {
    const iterable = this.value(s.iterable);
    const span = this.span(s.iterable);
    return this.withScope(() => {
      const t = s.varType === 'var' ? undefined : this.resolveType(s.varType);
      let elem = 'Dynamic';
      if (t) elem = typeName(t);
      else if (iterable.type.endsWith('[]')) elem = iterable.type.slice(0, -2);
      else if (iterable.type === 'String') elem = 'Char';
      const slot = this.declare(s.name, elem, s).slot;
      const body = this.loopBody(s.body);
      const it = iterable.ev;
      return (f) => {
        const v = it(f);
        let items: Iterable<unknown> | undefined;
        try {
          if (v === null || v === undefined) throw clrErrors.nullReference();
          items = v instanceof JToken && v.kindName !== 'Object' && v.kindName !== 'Array' ? undefined : enumerate(v);
          if (!items) throw clrErrors.invalidOperation(`foreach statement cannot operate on variables of type '${typeNameOf(v)}'`);
        } catch (err) {
          throw attach(err, span);
        }
        for (const x of Array.isArray(items) ? items.slice() : [...items]) {
          this.guard(f, span);
          f.locals[slot] = t ? castTo(normalize(x), t, 'Dynamic') : normalize(x);
          const r = body(f);
          if (r === BREAK) break;
          if (r === RETURN) return RETURN;
        }
        return NORMAL;
      };
    });
  }

  private forLoop(s: A.For): St {
    return this.withScope(() => {
      let init: St | undefined;
      if (s.init) {
        if (Array.isArray(s.init)) {
          const evs = s.init.map((x) => this.value(x).ev);
          init = (f) => {
            for (const e of evs) e(f);
            return NORMAL;
          };
        } else init = this.localDecl(s.init);
      }
      const test = s.test ? this.value(s.test).ev : undefined;
      const update = s.update.map((x) => this.value(x).ev);
      const body = this.loopBody(s.body);
      const span = this.span(s);
      return (f) => {
        if (init) init(f);
        for (;;) {
          if (test && !truthy(test(f))) return NORMAL;
          this.guard(f, span);
          const r = body(f);
          if (r === BREAK) return NORMAL;
          if (r === RETURN) return RETURN;
          for (const u of update) u(f);
        }
      };
    });
  }

  private tryStatement(s: A.Try): St {
    const body = this.block(s.block);
    const catches = s.catches.map((c) =>
      this.withScope(() => {
        let typeName = 'Exception';
        if (c.type) {
          const entry = lookupType(c.type.name);
          if (!entry && !/Exception$/.test(c.type.name)) this.error('ExprUnknownType', c.type, [c.type.name]);
          typeName = entry?.full ?? c.type.name;
        }
        const varSlot = c.name ? this.declare(c.name, 'Dynamic', c.type ?? s).slot : undefined;
        const rethrowSlot = this.tempSlot();
        const filter = c.filter ? this.value(c.filter).ev : undefined;
        this.catchSlots.push(rethrowSlot);
        const block = this.block(c.block);
        this.catchSlots.pop();
        return { typeName, varSlot, rethrowSlot, filter, block };
      }),
    );
    const fin = s.finally ? this.block(s.finally) : undefined;
    return (f) => {
      try {
        return body(f);
      } catch (raw) {
        // Emulator limits end the evaluation: C# code cannot catch them.
        if (raw instanceof ExpressionLimitError) throw raw;
        const err = raw instanceof ExpressionRuntimeError ? raw : (attach(raw, this.span(s)) as ExpressionRuntimeError);
        for (const c of catches) {
          if (!exceptionMatches(err.exceptionType, c.typeName)) continue;
          const value = new CsExceptionValue(err.exceptionType, err.message);
          if (c.varSlot !== undefined) f.locals[c.varSlot] = value;
          f.locals[c.rethrowSlot] = err;
          if (c.filter && c.filter(f) !== true) continue;
          return c.block(f);
        }
        throw err;
      } finally {
        if (fin) {
          const r = fin(f);
          // eslint-disable-next-line no-unsafe-finally
          if (r !== NORMAL) return r;
        }
      }
    };
  }

  private switchStatement(s: A.Switch): St {
    const subject = this.value(s.expr).ev;
    this.breakDepth++;
    try {
      const sections = s.sections.map((sec) =>
        this.withScope(() => ({
          labels: sec.labels.map((l) => (l === 'default' ? 'default' : this.value(l).ev)),
          body: (() => {
            const list = sec.statements.map((st) => this.statement(st));
            return (f: Frame) => {
              for (const st of list) {
                const c = st(f);
                if (c !== NORMAL) return c;
              }
              return NORMAL;
            };
          })(),
        })),
      );
      return (f) => {
        const v = subject(f);
        let chosen = sections.find((sec) => sec.labels.some((l) => l !== 'default' && csEquals(v, l(f))));
        chosen ??= sections.find((sec) => sec.labels.includes('default'));
        if (!chosen) return NORMAL;
        const c = chosen.body(f);
        return c === BREAK ? NORMAL : c;
      };
    } finally {
      this.breakDepth--;
    }
  }

  // ---- reachability ----
  alwaysReturns(s: A.Statement): boolean {
    switch (s.kind) {
      case 'Return':
      case 'Throw':
        return true;
      case 'Block':
        return s.statements.some((x) => this.alwaysReturns(x));
      case 'If':
        return s.else !== undefined && this.alwaysReturns(s.then) && this.alwaysReturns(s.else);
      case 'While':
        return isTrueLiteral(s.test) && !containsBreak(s.body);
      case 'For':
        return (s.test === undefined || isTrueLiteral(s.test)) && !containsBreak(s.body);
      case 'DoWhile':
        return this.alwaysReturns(s.body) || (isTrueLiteral(s.test) && !containsBreak(s.body));
      case 'Try':
        return (s.finally !== undefined && this.alwaysReturns(s.finally)) || (this.alwaysReturns(s.block) && s.catches.every((c) => this.alwaysReturns(c.block)));
      case 'Switch':
        return s.sections.some((sec) => sec.labels.includes('default')) && s.sections.every((sec) => sec.statements.some((x) => this.alwaysReturns(x)) && !sec.statements.some((x) => x.kind === 'Break'));
      case 'Using':
        return s.body !== undefined && this.alwaysReturns(s.body);
      default:
        return false;
    }
  }
}

function innermost(e: A.Expression): A.Expression {
  return e.kind === 'ConditionalAccess' ? innermost(e.body) : e;
}

function isTrueLiteral(e: A.Expression): boolean {
  return e.kind === 'Literal' && e.value === true;
}

/** Whether a `break` inside `s` (not nested in another loop or switch) exits the enclosing loop. */
function containsBreak(s: A.Statement): boolean {
  switch (s.kind) {
    case 'Break':
      return true;
    case 'Block':
      return s.statements.some(containsBreak);
    case 'If':
      return containsBreak(s.then) || (s.else !== undefined && containsBreak(s.else));
    case 'Try':
      return containsBreak(s.block) || s.catches.some((c) => containsBreak(c.block)) || (s.finally !== undefined && containsBreak(s.finally));
    case 'Using':
      return s.body !== undefined && containsBreak(s.body);
    default:
      return false;
  }
}
