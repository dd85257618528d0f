/**
 * KQL diagnostics: one catalogue, one error class. Positions are UTF-16 offsets into the query text;
 * `line` is 1-based and `pos` is the 0-based column inside that line (what the Kusto service reports
 * for SYN0002, e.g. "Query could not be parsed at 'x' on line [1,5]").
 */

export type KqlErrorKind = 'syntax' | 'semantic';

export interface KqlDiagnosticTemplate {
  code: string;
  kind: KqlErrorKind;
  message: string;
}

/** Message templates use {0}, {1}… placeholders. */
export const KQL_DIAGNOSTICS = {
  // Syntax (the service reports every recognition error as SYN0002)
  ParseError: { code: 'SYN0002', kind: 'syntax', message: "Query could not be parsed at '{0}' on line [{1},{2}]" },
  // Semantic
  UnresolvedName: { code: 'SEM0100', kind: 'semantic', message: "'{0}' operator: Failed to resolve column or scalar expression named '{1}'" },
  UnresolvedTable: { code: 'SEM0100', kind: 'semantic', message: "'{0}' operator: Failed to resolve table or column expression named '{1}'" },
  UnknownFunction: { code: 'SEM0100', kind: 'semantic', message: "'{0}' operator: Failed to resolve scalar expression named '{1}'" },
  NotTabular: { code: 'SEM0003', kind: 'semantic', message: 'Top-level expressions must return tabular results. Consider using print operator to obtain a scalar value' },
  OperatorNotSupported: { code: 'SEM0001', kind: 'semantic', message: "'{0}' operator is not supported by this emulator" },
  FunctionNotSupported: { code: 'SEM0001', kind: 'semantic', message: "'{0}' function is not supported by this emulator" },
  FeatureNotSupported: { code: 'SEM0001', kind: 'semantic', message: '{0} is not supported by this emulator' },
  ArgumentCount: { code: 'SEM0219', kind: 'semantic', message: "{0}(): function expects {1} argument(s)" },
  ArgumentType: { code: 'SEM0223', kind: 'semantic', message: "{0}: argument {1} must be {2}, got '{3}'" },
  OperandTypes: { code: 'SEM0106', kind: 'semantic', message: "Cannot apply '{0}' to operands of types '{1}' and '{2}'" },
  ExpectedConstant: { code: 'SEM0210', kind: 'semantic', message: '{0} expects a constant {1}' },
  AggregateOutsideSummarize: { code: 'SEM0120', kind: 'semantic', message: "'{0}' is an aggregation function and can only be used in summarize (or make-series)" },
  NotAggregate: { code: 'SEM0121', kind: 'semantic', message: "'summarize' operator: '{0}' is not an aggregation expression" },
  JoinKey: { code: 'SEM0130', kind: 'semantic', message: "'join' operator: {0}" },
  InvalidLiteral: { code: 'SEM0200', kind: 'semantic', message: "Invalid {0} literal '{1}'" },
  DuplicateLet: { code: 'SEM0140', kind: 'semantic', message: "'let' statement: the name '{0}' is already declared" },
  DuplicateColumn: { code: 'SEM0171', kind: 'semantic', message: "'{0}' operator: A column with the name '{1}' is already declared" },
  Query: { code: 'SEM0150', kind: 'semantic', message: '{0}' },
} as const satisfies Record<string, KqlDiagnosticTemplate>;

export type KqlDiagnosticName = keyof typeof KQL_DIAGNOSTICS;

export interface KqlErrorOptions {
  kind: KqlErrorKind;
  code: string;
  message: string;
  line: number;
  pos: number;
  offset: number;
  token?: string;
}

/** Thrown by `compileKql`/`executeKql` for every bad query; carries the service's error fields. */
export class KqlError extends Error {
  readonly kind: KqlErrorKind;
  readonly code: string;
  readonly line: number;
  readonly pos: number;
  /** UTF-16 offset of the error in the query text. */
  readonly offset: number;
  readonly token?: string;

  constructor(options: KqlErrorOptions) {
    super(options.message);
    this.name = 'KqlError';
    this.kind = options.kind;
    this.code = options.code;
    this.line = options.line;
    this.pos = options.pos;
    this.offset = options.offset;
    if (options.token !== undefined) this.token = options.token;
  }
}

export function formatKqlMessage(template: string, args: ReadonlyArray<string | number>): string {
  return template.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)] ?? ''));
}

/** Offsets of every line start, for offset → (line, column) by binary search. */
export function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 13 /* \r */) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    } else if (ch === 10 /* \n */) {
      starts.push(i + 1);
    }
  }
  return starts;
}

export function lineAndColumnOf(lineStarts: readonly number[], offset: number): { line: number; pos: number } {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, pos: offset - lineStarts[lo]! };
}

/** Builds a KqlError for `offset` in `text` from a catalogue entry. */
export function createKqlError(
  text: string,
  name: KqlDiagnosticName,
  offset: number,
  args: ReadonlyArray<string | number>,
  token?: string,
): KqlError {
  const template: KqlDiagnosticTemplate = KQL_DIAGNOSTICS[name];
  const { line, pos } = lineAndColumnOf(computeLineStarts(text), offset);
  const message = name === 'ParseError' ? formatKqlMessage(template.message, [args[0] ?? '', line, pos]) : formatKqlMessage(template.message, args);
  const options: KqlErrorOptions = { kind: template.kind, code: template.code, message, line, pos, offset };
  if (token !== undefined) options.token = token;
  return new KqlError(options);
}
