/**
 * Diagnostics with positions, in the TypeScript compiler's style: spans are UTF-16 offsets into the
 * original policy file; line and column are derived on demand from a cached table of line starts.
 */
export interface Span {
  start: number;
  end: number;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  span: Span;
  /** Name of the source (file path or scope label) the span points into. */
  source?: string;
  related?: Array<{ message: string; span: Span }>;
}

export interface DiagnosticTemplate {
  code: string;
  severity: Severity;
  message: string;
}

/**
 * The catalogue. Families: XML1xxx (reading policy XML), EXPR2xxx (policy expressions),
 * POL3xxx (policy documents and policy elements). Messages use {0}, {1}… placeholders.
 */
export const DIAGNOSTICS = {
  // XML1xxx — reading policy XML
  XmlMalformed: { code: 'XML1001', severity: 'error', message: 'Malformed XML: {0}' },
  XmlUnterminatedExpression: { code: 'XML1002', severity: 'error', message: "Unterminated policy expression: '{0}' expected." },
  XmlUnknownNamedValue: { code: 'XML1003', severity: 'error', message: "Named value '{0}' is not defined." },
  XmlRootNotPolicies: { code: 'XML1004', severity: 'error', message: "The root element must be <policies> (or <fragment>), found <{0}>." },
  XmlEmptyDocument: { code: 'XML1005', severity: 'error', message: 'The policy document is empty.' },
  XmlUnterminatedNamedValue: { code: 'XML1006', severity: 'error', message: "Unterminated named value reference: '}}' expected." },
  /** XML1003 as a policy document reports it: once per name, with where to define it. */
  XmlUndefinedNamedValue: { code: 'XML1003', severity: 'error', message: "Named value '{0}' is not defined{1}. {2}" },
  XmlUndefinedNamedValueLoose: { code: 'XML1003', severity: 'warning', message: "Named value '{0}' is not defined{1}; a request that reaches it fails (strict mode off). {2}" },

  // EXPR2xxx — policy expressions
  ExprSyntax: { code: 'EXPR2001', severity: 'error', message: '{0}' },
  ExprExpected: { code: 'EXPR2005', severity: 'error', message: "'{0}' expected." },
  ExprUnexpectedToken: { code: 'EXPR2006', severity: 'error', message: "Unexpected token '{0}'." },
  ExprUnterminatedString: { code: 'EXPR2007', severity: 'error', message: 'Unterminated string literal.' },
  ExprUnsupported: { code: 'EXPR2010', severity: 'error', message: '{0} is not supported by the emulator in policy expressions.' },
  ExprUnknownName: { code: 'EXPR2011', severity: 'error', message: "The name '{0}' does not exist in the current context." },
  ExprNotAllPathsReturn: { code: 'EXPR2012', severity: 'error', message: 'Not all code paths return a value in a multi-statement expression.' },
  ExprReturnType: { code: 'EXPR2013', severity: 'error', message: "Expression return type '{0}' is not allowed for '{1}'; expected '{2}'." },
  ExprInvalidNumber: { code: 'EXPR2002', severity: 'error', message: "Invalid numeric literal '{0}'." },
  ExprInvalidEscape: { code: 'EXPR2003', severity: 'error', message: "Unrecognized escape sequence '{0}'." },
  ExprInvalidCharacter: { code: 'EXPR2004', severity: 'error', message: "Unexpected character '{0}'." },
  ExprInvalidCharLiteral: { code: 'EXPR2008', severity: 'error', message: 'A character literal must contain exactly one character.' },
  ExprUnknownType: { code: 'EXPR2014', severity: 'error', message: "The type or namespace name '{0}' could not be found." },
  ExprUnknownMember: { code: 'EXPR2015', severity: 'error', message: "'{0}' does not contain a definition for '{1}'." },
  ExprDuplicateLocal: { code: 'EXPR2016', severity: 'error', message: "A local variable named '{0}' is already defined in this scope." },
  ExprInvalidStatement: { code: 'EXPR2017', severity: 'error', message: 'Only assignment, call, increment, decrement and new object expressions can be used as a statement.' },
  ExprNoEnclosingLoop: { code: 'EXPR2018', severity: 'error', message: "No enclosing loop out of which to break or continue." },
  ExprNotAssignable: { code: 'EXPR2019', severity: 'error', message: 'The left-hand side of an assignment must be a variable, property or indexer.' },
  ExprArgumentCount: { code: 'EXPR2020', severity: 'error', message: "No overload for method '{0}' takes {1} arguments." },
  ExprStatementInExpression: { code: 'EXPR2021', severity: 'error', message: "Since this is a single expression '@( … )', it cannot contain statements; use '@{ … }' for a statement block." },

  // POL3xxx — policy documents and elements
  PolUnknownPolicy: { code: 'POL3001', severity: 'error', message: "Unknown policy '{0}'. It is not emulated; run with --loose to skip it with a warning." },
  PolSkippedPolicy: { code: 'POL3002', severity: 'warning', message: "Policy '{0}' is not emulated and was skipped (--loose)." },
  PolNotEmulated: { code: 'POL3001', severity: 'error', message: "Policy '{0}' is not emulated: {1}. Run with --loose to skip it with a warning." },
  PolSkippedNotEmulated: { code: 'POL3002', severity: 'warning', message: "Policy '{0}' is not emulated ({1}) and was skipped (--loose)." },
  PolMissingAttribute: { code: 'POL3003', severity: 'error', message: "Policy '{0}' requires attribute '{1}'." },
  PolInvalidAttributeValue: { code: 'POL3004', severity: 'error', message: "Attribute '{1}' of policy '{0}' has an invalid value '{2}': {3}" },
  PolUnknownAttribute: { code: 'POL3005', severity: 'error', message: "Policy '{0}' has no attribute '{1}'." },
  PolExpressionNotAllowed: { code: 'POL3006', severity: 'error', message: "Attribute '{1}' of policy '{0}' does not accept policy expressions." },
  PolWrongSection: { code: 'POL3007', severity: 'error', message: "Policy '{0}' is not allowed in the '{1}' section; allowed sections: {2}." },
  PolUnknownSection: { code: 'POL3008', severity: 'error', message: "Unknown section <{0}>; expected inbound, backend, outbound or on-error." },
  PolDuplicateSection: { code: 'POL3009', severity: 'error', message: "Section <{0}> appears more than once." },
  PolInvalidChild: { code: 'POL3010', severity: 'error', message: "Element <{1}> is not allowed inside policy '{0}'." },
  PolMissingChild: { code: 'POL3011', severity: 'error', message: "Policy '{0}' requires at least one <{1}> element." },
  PolAttributeConflict: { code: 'POL3012', severity: 'error', message: "Policy '{0}': {1}" },
  PolTooManyDimensions: { code: 'POL3013', severity: 'error', message: "Policy '{0}' has {1} custom dimensions; at most {2} are allowed." },
  PolBaseAtGlobal: { code: 'POL3014', severity: 'warning', message: '<base/> at global scope has no effect.' },
  PolDuplicateForwardRequest: { code: 'POL3015', severity: 'error', message: 'Only one forward-request policy is allowed per policy document.' },
  PolUnknownBackend: { code: 'POL3016', severity: 'error', message: "Backend '{0}' is not defined. Define it under backends in the config file or a lab deployment (policies lint: --backend {0})." },
  PolDimensionNeedsValue: { code: 'POL3017', severity: 'error', message: "Dimension '{0}' is not a default dimension and needs a value." },
  PolWrongScope: { code: 'POL3018', severity: 'error', message: "Policy '{0}' is not allowed at {1} scope; allowed scopes: {2}." },
  PolOncePerDefinition: { code: 'POL3019', severity: 'error', message: "Policy '{0}' can be used only once per policy definition." },
  PolUnknownBackendLoose: { code: 'POL3016', severity: 'warning', message: "Backend '{0}' is not defined; a request that reaches it fails (strict mode off). Define it under backends in the config file or a lab deployment (policies lint: --backend {0})." },
  PolBicepPlaceholder: { code: 'POL3040', severity: 'error', message: "Attribute '{1}' of policy '{0}' holds the Bicep placeholder '{2}', which the lab's Bicep (or notebook) replaces before deploying. Supply its value: {3}." },
  PolBicepPlaceholderContent: { code: 'POL3040', severity: 'error', message: "Policy '{0}' holds the Bicep placeholder '{1}' where its child elements go, which the lab's Bicep (or notebook) replaces before deploying. Supply its value: {2}." },
  PolSetStatusNoReason: { code: 'POL3041', severity: 'warning', message: "set-status has no 'reason': APIM accepts this and sends an empty reason phrase." },
  PolChildNotEmulated: { code: 'POL3060', severity: 'error', message: "Element <{1}> of policy '{0}' is not emulated: {2}. Run with --loose to skip it with a warning." },
  PolChildNotEmulatedLoose: { code: 'POL3060', severity: 'warning', message: "Element <{1}> of policy '{0}' is not emulated and was skipped (--loose): {2}." },
  PolUnknownFragment: { code: 'POL3061', severity: 'error', message: "Policy fragment '{0}' is not defined. Define it under fragments in the config file or with PUT /_emulator/fragments/{0}." },
  PolFragmentCycle: { code: 'POL3062', severity: 'error', message: "Policy fragment '{0}' includes itself ({1})." },
  PolFragmentNotFragment: { code: 'POL3063', severity: 'error', message: "Policy fragment '{0}' must have a <fragment> root element, found <{1}>." },
  PolFragmentError: { code: 'POL3064', severity: 'error', message: "Policy fragment '{0}' does not load here: {1}" },
  PolFragmentWarning: { code: 'POL3064', severity: 'warning', message: "Policy fragment '{0}': {1}" },
} as const satisfies Record<string, DiagnosticTemplate>;

export type DiagnosticKey = keyof typeof DIAGNOSTICS;

export function formatMessage(template: string, args: ReadonlyArray<string | number>): string {
  return template.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)] ?? `{${i}}`));
}

export function createDiagnostic(
  key: DiagnosticKey,
  span: Span,
  args: ReadonlyArray<string | number> = [],
  source?: string,
): Diagnostic {
  const t = DIAGNOSTICS[key];
  const d: Diagnostic = { code: t.code, severity: t.severity, message: formatMessage(t.message, args), span };
  if (source !== undefined) d.source = source;
  return d;
}

/** Offsets → 1-based line/column, with the line-start table computed once per text. */
export class SourceText {
  private lineStarts: number[] | undefined;
  constructor(
    readonly text: string,
    readonly name: string = '<policy>',
  ) {}

  private starts(): number[] {
    if (!this.lineStarts) {
      const starts = [0];
      for (let i = 0; i < this.text.length; i++) {
        const c = this.text.charCodeAt(i);
        if (c === 13 /* \r */) {
          if (this.text.charCodeAt(i + 1) === 10) i++;
          starts.push(i + 1);
        } else if (c === 10 /* \n */) {
          starts.push(i + 1);
        }
      }
      this.lineStarts = starts;
    }
    return this.lineStarts;
  }

  /** 1-based line and column of an offset. */
  lineAndColumn(offset: number): { line: number; column: number } {
    const starts = this.starts();
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  }

  lineText(line: number): string {
    const starts = this.starts();
    const start = starts[line - 1] ?? this.text.length;
    const end = starts[line] ?? this.text.length;
    return this.text.slice(start, end).replace(/\r?\n$/, '');
  }
}

/** `file(14,27): error EXPR2005: ')' expected.` followed by the source line and a ~~~ underline. */
export function formatDiagnostic(d: Diagnostic, source: SourceText, options: { withSnippet?: boolean } = {}): string {
  const { line, column } = source.lineAndColumn(d.span.start);
  const head = `${d.source ?? source.name}(${line},${column}): ${d.severity} ${d.code}: ${d.message}`;
  if (options.withSnippet === false) return head;
  const lineText = source.lineText(line);
  const width = Math.max(1, Math.min(d.span.end - d.span.start, lineText.length - (column - 1)));
  return `${head}\n${lineText}\n${' '.repeat(column - 1)}${'~'.repeat(width)}`;
}

/** JSON shape used by the control plane and by PolicyLoadError consumers. */
export interface DiagnosticJson {
  code: string;
  severity: Severity;
  message: string;
  source: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export function diagnosticToJson(d: Diagnostic, source: SourceText): DiagnosticJson {
  const s = source.lineAndColumn(d.span.start);
  const e = source.lineAndColumn(d.span.end);
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    source: d.source ?? source.name,
    line: s.line,
    column: s.column,
    endLine: e.line,
    endColumn: e.column,
  };
}

/** Thrown by loaders when a document has error diagnostics; carries all of them. */
export class PolicyLoadError extends Error {
  readonly diagnostics: Diagnostic[];
  readonly sourceText: SourceText;
  constructor(diagnostics: Diagnostic[], sourceText: SourceText) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    super(errors.map((d) => formatDiagnostic(d, sourceText)).join('\n') || 'Policy failed to load.');
    this.name = 'PolicyLoadError';
    this.diagnostics = diagnostics;
    this.sourceText = sourceText;
  }

  toJSON(): DiagnosticJson[] {
    return this.diagnostics.map((d) => diagnosticToJson(d, this.sourceText));
  }
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
