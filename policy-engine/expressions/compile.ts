import { createDiagnostic, hasErrors, type Diagnostic, type Span } from '../diagnostics.js';
import { ExpressionCompiler, type EvaluationScope } from './evaluator.js';
import { parse } from './parser.js';

/** What compileExpression needs of a lifted `@( … )` / `@{ … }` (LiftedExpression is assignable to it). */
export interface ExpressionSource {
  kind: 'expression' | 'block';
  code: string;
  /** Maps an index into `code` to an offset in the original policy file. */
  positionOf(index: number): number;
}

export interface CompileExpressionOptions {
  /** File or scope label for diagnostics. */
  source?: string;
}

export interface CompiledExpression {
  readonly kind: 'expression' | 'block';
  /** Runs the compiled closures; throws ExpressionRuntimeError on .NET exceptions. */
  evaluate(scope: EvaluationScope): unknown;
}

/**
 * Parses and compiles a policy expression once, at load time. Returns every diagnostic found (syntax,
 * unknown names and members, unsupported features, missing returns) with spans in the original file;
 * `expression` is absent when there are errors.
 *
 * @example
 * const { expression, diagnostics } = compileExpression(lifted, { source: 'policies/api.xml' });
 * const value = expression?.evaluate({ context, now: () => clock.now() });
 */
export function compileExpression(
  src: ExpressionSource,
  options: CompileExpressionOptions = {},
): { expression?: CompiledExpression; diagnostics: Diagnostic[] } {
  const { root, diagnostics: raw } = parse(src.code, src.kind);
  const spanOf = (pos: number, end: number): Span => {
    const start = src.positionOf(pos);
    return { start, end: Math.max(start, src.positionOf(end)) };
  };
  const compiler = new ExpressionCompiler(raw, spanOf);
  let output: ReturnType<ExpressionCompiler['compileRoot']> | undefined;
  // Compile even with syntax errors: name and type checks still report against the recovered tree.
  output = compiler.compileRoot(root, src.kind);
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const d of raw.sort((a, b) => a.start - b.start)) {
    const key = `${d.start}:${d.key}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const diag = createDiagnostic(d.key, spanOf(d.start, d.end), d.args, options.source);
    if (d.related) diag.related = d.related.map((r) => ({ message: r.message, span: spanOf(r.start, r.end) }));
    diagnostics.push(diag);
  }
  if (hasErrors(diagnostics)) output = undefined;
  if (!output) return { diagnostics };
  const evaluate = output.evaluate;
  return { expression: { kind: src.kind, evaluate }, diagnostics };
}

/** An ExpressionSource for code that is not inside a policy file (tests, tools): offsets are indexes into `code`. */
export function expressionSource(code: string, kind: 'expression' | 'block' = 'expression', base = 0): ExpressionSource {
  return { kind, code, positionOf: (i) => base + Math.max(0, Math.min(i, code.length)) };
}
