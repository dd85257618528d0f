import type { Diagnostic, SourceText, Span } from '../diagnostics.js';

/**
 * A policy expression lifted out of the XML before parsing: `@( … )` (single expression) or
 * `@{ … }` (statement block). `code` is the text between the delimiters, after XML entity
 * decoding (`&quot;` → `"`, `&amp;` → `&`, `&lt;` → `<` …) and named-value substitution.
 */
export interface LiftedExpression {
  kind: 'expression' | 'block';
  code: string;
  /** Span of the whole `@(…)` / `@{…}` in the original file. */
  span: Span;
  /** Maps an index into `code` to an offset in the original file (exact outside substituted named values). */
  positionOf(index: number): number;
}

export interface PolicyAttribute {
  name: string;
  /** Decoded value (entities decoded, named values substituted). For an expression, the original `@(…)` text. */
  value: string;
  nameSpan: Span;
  /** Span of the value (inside the quotes) in the original file. */
  valueSpan: Span;
  expression?: LiftedExpression;
}

export interface PolicyText {
  /** Decoded text content, untrimmed. For an expression, the original `@(…)` text. */
  value: string;
  span: Span;
  expression?: LiftedExpression;
}

export interface PolicyElement {
  name: string;
  attributes: PolicyAttribute[];
  children: PolicyElement[];
  /** Text content directly inside this element (concatenated, untrimmed); absent when only whitespace. */
  text?: PolicyText;
  /** Span of the whole element, from '<' of the start tag to '>' of the end tag. */
  span: Span;
  /** Span of the element name in the start tag. */
  nameSpan: Span;
}

export interface PolicyXmlDocument {
  /** The root element (`policies` or `fragment`); absent when the text could not be read. */
  root?: PolicyElement;
  source: SourceText;
  diagnostics: Diagnostic[];
}

export interface ReadPolicyXmlOptions {
  /** Name used in diagnostics (file path or scope label). */
  name?: string;
  /** `{{name}}` substitutions applied before parsing (names are case-insensitive, as in APIM). */
  namedValues?: Record<string, string>;
  /** Plain-text placeholders replaced before parsing, e.g. { '{backend-id}': 'foundry1' } from the lab bicep. */
  placeholders?: Record<string, string>;
}
