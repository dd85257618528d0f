import type { Diagnostic, DiagnosticKey, Span } from '../diagnostics.js';
import type { CompiledExpression } from '../expressions/index.js';
import type { PolicyAttribute, PolicyElement, PolicyText } from '../xml/model.js';
import type { EngineOptions, PolicyStep, RequestContext, ScopeKind, SectionName } from '../pipeline/types.js';

/** A value known at load time, or an expression evaluated per request. */
export interface ValueSource<T> {
  readonly isExpression: boolean;
  /** The literal value when not an expression. */
  readonly constant: T | undefined;
  get(ctx: RequestContext): T;
}

export type AttributeKind = 'string' | 'int' | 'number' | 'bool' | 'enum';

export interface AttributeSpec {
  kind: AttributeKind;
  required?: boolean;
  /** Whether `@(…)` is accepted (APIM rejects expressions on some attributes). Default true. */
  expressions?: boolean;
  values?: readonly string[];
  min?: number;
  max?: number;
  default?: string | number | boolean;
}

export interface ChildCompileResult {
  steps: PolicyStep[];
}

/** What a policy's compile() can use: diagnostics, attribute readers, nested compilation. */
export interface CompileEnv {
  readonly section: SectionName;
  readonly scope: ScopeKind;
  readonly path: string;
  readonly options: EngineOptions;
  readonly backendIds: ReadonlySet<string>;
  report(key: DiagnosticKey, span: Span, args?: ReadonlyArray<string | number>): void;
  /** Compiles an attribute per its spec (validates required, kind, range, expression permission). */
  attr<K extends AttributeKind>(node: PolicyElement, name: string, spec: AttributeSpec & { kind: K }): ValueSource<AttributeType<K>> | undefined;
  /** Compiles element text: the expression when it is one, else the literal text. */
  text(node: PolicyElement, options?: { trim?: boolean }): ValueSource<string> | undefined;
  /** Compiles an expression or literal from a raw attribute/text carrier. */
  expression(carrier: PolicyAttribute | PolicyText): CompiledExpression | undefined;
  /** The element's content as written (markup included, named values substituted), e.g. a Liquid template. */
  innerMarkup(node: PolicyElement): string;
  /** Compiles child elements as policies of the current section (choose/when, retry, return-response…). */
  compileSteps(nodes: readonly PolicyElement[], pathPrefix: string): PolicyStep[];
  /**
   * Compiles the policy fragment `id` as policies of the current section (include-fragment). Its problems are
   * reported at `span` (the including element), each naming its place in the fragment; undefined when it fails.
   */
  compileFragment(id: string, span: Span, pathPrefix: string): PolicyStep[] | undefined;
  /** Evaluates an expression, mapping runtime failures to APIM's ExpressionValueEvaluationFailure. */
  evaluate(expression: CompiledExpression, ctx: RequestContext): unknown;
}

export type AttributeType<K extends AttributeKind> = K extends 'int' | 'number' ? number : K extends 'bool' ? boolean : string;

export interface CompiledPolicy {
  run(ctx: RequestContext): void | Promise<void>;
}

export interface PolicyDefinition {
  name: string;
  /** Sections the policy may appear in. */
  sections: readonly SectionName[];
  /** Declared attributes (others are rejected). `id` is always allowed. */
  attributes: Record<string, AttributeSpec>;
  /** Allowed child element names; 'policies' = any policy of the section; 'markup' = any XML (set-body's literal content); omitted = none. */
  children?: readonly string[] | 'policies' | 'markup';
  /** What of the reference the emulator does not do (the support matrix lists the policy as partial, with this). */
  partial?: string;
  /** Load time: validate and build the closure. Returning undefined means diagnostics were reported. */
  compile(node: PolicyElement, env: CompileEnv): CompiledPolicy | undefined;
}

export function definePolicy(definition: PolicyDefinition): PolicyDefinition {
  return definition;
}

export type { Diagnostic };

/** `{retry-count}` → `{retry-count}`: a whole value that is a Bicep `replace()` placeholder (the labs' `{tpm}`, `{backend-id}`). */
export function bicepPlaceholder(value: string): string | undefined {
  const text = value.trim();
  return /^\{[A-Za-z][A-Za-z0-9_-]*\}$/.test(text) ? text : undefined;
}

/** Where a placeholder's value goes, for diagnostics. */
export function placeholderHint(placeholder: string, example: string): string {
  return `policyPlaceholders in the API's configuration, e.g. { "${placeholder}": "${example}" }, or policies lint --placeholder ${placeholder}=${example}`;
}
