/**
 * The protocol by which the evaluator reaches members of host objects. See ../README.md, "Host objects".
 *
 * - A property `X` is read as `obj.X` (own or inherited, getters included) and written with `Reflect.set`.
 * - A method `X(...)` is `obj.X(...)`, called with C# values. Metadata attached with `declareMethods`
 *   describes parameter names (for named arguments), `out` parameter positions and generic methods.
 * - An indexer is `obj[INDEXER](key)` / `obj[INDEXER_SET](key, value)`.
 * - `foreach` and LINQ enumerate `obj[ENUMERATE]()` when present (else `Symbol.iterator`).
 * - `obj[TYPE_NAME]` is the .NET type name used in messages and casts (default `System.Object`).
 * - `obj[HOST_PROPERTIES]` names the properties of a host object whose getters live on its class, in declaration
 *   order: what `JToken.FromObject` / `JsonConvert.SerializeObject` list for it (else its own enumerable properties).
 */
export const INDEXER: unique symbol = Symbol.for('ai-gateway-emulator.expressions.indexer');
export const INDEXER_SET: unique symbol = Symbol.for('ai-gateway-emulator.expressions.indexerSet');
export const ENUMERATE: unique symbol = Symbol.for('ai-gateway-emulator.expressions.enumerate');
export const TYPE_NAME: unique symbol = Symbol.for('ai-gateway-emulator.expressions.typeName');
export const METHOD_INFO: unique symbol = Symbol.for('ai-gateway-emulator.expressions.methodInfo');
export const HOST_PROPERTIES: unique symbol = Symbol.for('ai-gateway-emulator.expressions.hostProperties');

/** A C# type as written in an expression: `List<string>`, `int?`, `string[]`. `name` is canonical (`Int32`, `String`). */
export interface TypeArgument {
  name: string;
  args: TypeArgument[];
  /** Array rank count: `string[]` → 1, `int[][]` → 2. */
  arrays: number;
  nullable: boolean;
}

export interface MethodInfo {
  /** Parameter names in order, so named arguments (`preserveContent: true`) can be placed. */
  parameters?: readonly string[];
  /** Positions (0-based, after any type-argument parameter) of `out` parameters; they receive an OutRef. */
  out?: readonly number[];
  /** Generic method: called as `fn(typeArgs: TypeArgument[] | undefined, ...args)`. */
  generic?: boolean;
}

/** The cell passed for an `out` argument; the method writes `value`, the evaluator copies it to the variable. */
export class OutRef {
  value: unknown = null;
}

interface WithMethodInfo {
  [METHOD_INFO]?: MethodInfo;
}

/** Attaches method metadata to methods of a prototype or a plain host object. */
export function declareMethods(target: object, methods: Record<string, MethodInfo>): void {
  for (const [name, info] of Object.entries(methods)) {
    const fn = (target as Record<string, unknown>)[name];
    if (typeof fn !== 'function') throw new TypeError(`declareMethods: '${name}' is not a method`);
    (fn as WithMethodInfo)[METHOD_INFO] = info;
  }
}

/** Names the properties JToken.FromObject / SerializeObject list for instances of `cls` (getters on its prototype), in order. */
export function declareHostProperties(cls: { prototype: object }, names: readonly string[]): void {
  Object.defineProperty(cls.prototype, HOST_PROPERTIES, { value: names });
}

/** The properties declared with declareHostProperties for `value`'s class, if any. */
export function hostPropertiesOf(value: object): readonly string[] | undefined {
  return (value as { [HOST_PROPERTIES]?: readonly string[] })[HOST_PROPERTIES];
}

export function methodInfoOf(fn: unknown): MethodInfo | undefined {
  return (fn as WithMethodInfo)[METHOD_INFO];
}

/** A typed method value, for plain host objects: `{ TryGet: csMethod({ out: [1] }, (k, ref) => …) }`. */
export function csMethod<F extends (...args: never[]) => unknown>(info: MethodInfo, fn: F): F {
  (fn as WithMethodInfo)[METHOD_INFO] = info;
  return fn;
}
