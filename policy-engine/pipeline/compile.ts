import { createDiagnostic, formatDiagnostic, hasErrors, PolicyLoadError, type Diagnostic, type DiagnosticKey, type Span } from '../diagnostics.js';
import { compileExpression, DEFAULT_EVALUATION_LIMITS, ExpressionLimitError, ExpressionRuntimeError, toCSharpString, type CompiledExpression, type EvaluationLimits } from '../expressions/index.js';
import { bicepPlaceholder, placeholderHint, type AttributeKind, type AttributeSpec, type AttributeType, type CompileEnv, type PolicyDefinition, type ValueSource } from '../policies/define.js';
import { getPolicyDefinition } from '../policies/registry.js';
import { NOT_EMULATED } from '../policies/reference.js';
import { readPolicyXml } from '../xml/index.js';
import { substituteNamedValues } from '../xml/named-values.js';
import type { PolicyAttribute, PolicyElement, PolicyText, PolicyXmlDocument } from '../xml/model.js';
import { PolicyError } from './last-error.js';
import { SECTION_NAMES, type EngineOptions, type PolicyStep, type RequestContext, type ScopeKind, type SectionName } from './types.js';

/** `<base/>` inside a section: replaced by the broader scope's section when scopes are composed. */
export const BASE = Symbol('base');
export type SectionItem = PolicyStep | typeof BASE;

export interface CompiledDocument {
  scope: ScopeKind;
  /** Absent section = inherits everything (as if it held only `<base/>`). */
  sections: Partial<Record<SectionName, SectionItem[]>>;
  diagnostics: Diagnostic[];
  source: PolicyXmlDocument['source'];
}

export interface CompileDocumentOptions {
  scope: ScopeKind;
  name?: string;
  namedValues?: Record<string, string>;
  placeholders?: Record<string, string>;
  options: EngineOptions;
  backendIds: ReadonlySet<string>;
  /** Lower-case names of `{{…}}` references left unresolved (strict mode off). */
  undefinedNamedValues?: ReadonlySet<string>;
  /** The document text (set internally, for CompileEnv.innerMarkup). */
  sourceText?: string;
  /** Policy fragments by id (include-fragment), as XML with a `<fragment>` root. */
  fragments?: ReadonlyMap<string, string>;
  /** Fragments being compiled around this one (set internally, to refuse a fragment that includes itself). */
  fragmentStack?: readonly string[];
}

const ID_ATTRIBUTE = 'id';

/** Reads and compiles one scope's policy document. Throws PolicyLoadError when it has errors. */
export function compilePolicyDocument(xml: string, opts: CompileDocumentOptions): CompiledDocument {
  const doc = readPolicyXml(xml, { name: opts.name ?? `${opts.scope} policy`, namedValues: opts.namedValues, placeholders: opts.placeholders });
  opts = { ...opts, sourceText: xml };
  const undefinedNames = undefinedNamedValues(doc, opts.options.strict);
  if (undefinedNames.names.size > 0) opts = { ...opts, undefinedNamedValues: undefinedNames.names };
  const diagnostics = undefinedNames.diagnostics;
  const sections: CompiledDocument['sections'] = {};
  const sourceName = doc.source.name;
  const report: Reporter = (key, span, args = []) => {
    diagnostics.push(createDiagnostic(key, span, args, sourceName));
  };
  report.push = (d) => diagnostics.push(d.source === undefined ? { ...d, source: sourceName } : d);

  if (doc.root && !hasErrors(diagnostics)) {
    if (doc.root.name !== 'policies') {
      report('XmlRootNotPolicies', doc.root.nameSpan, [doc.root.name]);
    } else {
      let forwardRequests = 0;
      for (const sectionNode of doc.root.children) {
        const section = sectionNode.name as SectionName;
        if (!SECTION_NAMES.includes(section)) {
          report('PolUnknownSection', sectionNode.nameSpan, [sectionNode.name]);
          continue;
        }
        if (sections[section]) {
          report('PolDuplicateSection', sectionNode.nameSpan, [section]);
          continue;
        }
        const items: SectionItem[] = [];
        const counts = new Map<string, number>();
        for (const child of sectionNode.children) {
          if (child.name === 'base') {
            if (opts.scope === 'global') report('PolBaseAtGlobal', child.nameSpan);
            else items.push(BASE);
            continue;
          }
          forwardRequests += countElements(child, 'forward-request');
          const index = (counts.get(child.name) ?? 0) + 1;
          counts.set(child.name, index);
          const step = compileStep(child, `${child.name}[${index}]`, section, opts, report);
          if (step) items.push(step);
        }
        sections[section] = items;
      }
      if (forwardRequests > 1) report('PolDuplicateForwardRequest', doc.root.nameSpan);
    }
  }
  const reported = oncePerReference(diagnostics);
  const compiled: CompiledDocument = { scope: opts.scope, sections, diagnostics: reported, source: doc.source };
  if (hasErrors(reported)) throw new PolicyLoadError(reported, doc.source);
  return compiled;
}

const NAMED_VALUE_REFERENCE = /\{\{([A-Za-z0-9._-]+)\}\}/g;

/**
 * The reader reports every `{{name}}` it cannot resolve; a document reports each name once, with the number of
 * references and where to define it — an error in strict mode, else a warning (the policies holding it then fail
 * when a request reaches them).
 */
function undefinedNamedValues(doc: PolicyXmlDocument, strict: boolean): { diagnostics: Diagnostic[]; names: Set<string> } {
  const diagnostics: Diagnostic[] = [];
  const byName = new Map<string, { first: Diagnostic; name: string; count: number }>();
  const liquid = doc.root ? liquidTemplateSpans(doc.root) : [];
  for (const d of doc.diagnostics) {
    // `{{body.x}}` in a Liquid set-body is template output, not a named value.
    if (d.code === 'XML1003' && liquid.some((s) => d.span.start >= s.start && d.span.end <= s.end)) continue;
    const reference = d.code === 'XML1003' ? /^\{\{(.+)\}\}$/.exec(doc.source.text.slice(d.span.start, d.span.end))?.[1] : undefined;
    if (reference === undefined) {
      diagnostics.push(d);
      continue;
    }
    const entry = byName.get(reference.toLowerCase());
    if (entry) entry.count++;
    else {
      byName.set(reference.toLowerCase(), { first: d, name: reference, count: 1 });
      diagnostics.push(d); // replaced below, keeping its place
    }
  }
  for (const { first, name, count } of byName.values()) {
    const where = `Define it with --named-value ${name}=<value>, under namedValues in the config file, or with PUT /_emulator/named-values/${name}.`;
    const replacement = createDiagnostic(strict ? 'XmlUndefinedNamedValue' : 'XmlUndefinedNamedValueLoose', first.span, [name, count > 1 ? ` (${count} references)` : '', where], first.source);
    diagnostics[diagnostics.indexOf(first)] = replacement;
  }
  return { diagnostics, names: new Set(byName.keys()) };
}

/** Spans of `<set-body template="liquid">` elements. */
function liquidTemplateSpans(node: PolicyElement, out: Span[] = []): Span[] {
  if (node.name === 'set-body' && node.attributes.some((a) => a.name === 'template' && a.value.toLowerCase() === 'liquid')) out.push(node.span);
  else for (const child of node.children) liquidTemplateSpans(child, out);
  return out;
}

/** The text between an element's start and end tags in the document (empty for `<x/>`). */
function innerMarkupOf(source: string, node: PolicyElement): string {
  const raw = source.slice(node.span.start, node.span.end);
  let quote = '';
  let i = node.nameSpan.end - node.span.start;
  for (; i < raw.length; i++) {
    const c = raw[i]!;
    if (quote) quote = c === quote ? '' : quote;
    else if (c === '"' || c === "'") quote = c;
    else if (c === '>') break;
  }
  if (raw[i - 1] === '/') return '';
  return raw.slice(i + 1, raw.lastIndexOf('</'));
}

/** One POL3016 per backend id in a document (a lab names its backend in inbound and again inside retry). */
function oncePerReference(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    if (d.code !== 'POL3016') return true;
    if (seen.has(d.message)) return false;
    seen.add(d.message);
    return true;
  });
}

/** The undefined named values an element uses in its own attributes and text (and in non-policy children such as <when>, <value>). */
function undefinedNamesIn(node: PolicyElement, undefinedNames: ReadonlySet<string>): string[] {
  const found: string[] = [];
  const scan = (text: string | undefined) => {
    for (const m of (text ?? '').matchAll(NAMED_VALUE_REFERENCE)) if (undefinedNames.has(m[1]!.toLowerCase()) && !found.includes(m[1]!)) found.push(m[1]!);
  };
  const visit = (element: PolicyElement) => {
    for (const a of element.attributes) scan(a.value);
    scan(element.text?.value);
    for (const child of element.children) if (!getPolicyDefinition(child.name)) visit(child);
  };
  visit(node);
  return found;
}

/** How many `name` elements an element holds, itself included (forward-request nested in retry or choose counts). */
function countElements(element: PolicyElement, name: string): number {
  let n = element.name === name ? 1 : 0;
  for (const child of element.children) n += countElements(child, name);
  return n;
}

interface Reporter {
  (key: DiagnosticKey, span: Span, args?: ReadonlyArray<string | number>): void;
  push: (d: Diagnostic) => void;
}

function compileStep(node: PolicyElement, path: string, section: SectionName, opts: CompileDocumentOptions, report: Reporter): PolicyStep | undefined {
  const definition = getPolicyDefinition(node.name);
  if (!definition) {
    // A reference policy the emulator does not emulate says why (the support matrix's reason).
    const why = Object.hasOwn(NOT_EMULATED, node.name) ? NOT_EMULATED[node.name] : undefined;
    if (opts.options.strict) {
      if (why) report('PolNotEmulated', node.nameSpan, [node.name, why]);
      else report('PolUnknownPolicy', node.nameSpan, [node.name]);
      return undefined;
    }
    if (why) report('PolSkippedNotEmulated', node.nameSpan, [node.name, why]);
    else report('PolSkippedPolicy', node.nameSpan, [node.name]);
    return undefined;
  }
  if (!definition.sections.includes(section)) {
    report('PolWrongSection', node.nameSpan, [node.name, section, definition.sections.join(', ')]);
    return undefined;
  }
  const contentPlaceholder = definition.children !== undefined && node.text ? bicepPlaceholder(node.text.value) : undefined;
  if (contentPlaceholder && node.text) {
    const start = node.text.span.start + Math.max(0, node.text.value.indexOf(contentPlaceholder));
    report('PolBicepPlaceholderContent', { start, end: start + contentPlaceholder.length }, [node.name, contentPlaceholder, placeholderHint(contentPlaceholder, '<when condition=…>…</when>')]);
    return undefined;
  }
  const missing = opts.undefinedNamedValues ? undefinedNamesIn(node, opts.undefinedNamedValues) : [];
  if (missing.length > 0) {
    // Not strict: the document loads, and a request that reaches this policy fails here (500, on-error runs).
    const id = node.attributes.find((a) => a.name === ID_ATTRIBUTE)?.value ?? '';
    const message = `Named value '${missing[0]}' is not defined.`;
    return {
      policy: node.name,
      id,
      path,
      scope: opts.scope,
      section,
      run() {
        throw new PolicyError({ source: node.name, reason: 'NamedValueNotFound', message });
      },
    };
  }
  for (const attribute of node.attributes) {
    if (attribute.name !== ID_ATTRIBUTE && !(attribute.name in definition.attributes) && !attribute.name.startsWith('xmlns')) {
      report('PolUnknownAttribute', attribute.nameSpan, [node.name, attribute.name]);
    }
  }
  validateChildren(definition, node, report);
  const env = createCompileEnv(section, path, opts, report);
  const compiled = definition.compile(node, env);
  if (!compiled) return undefined;
  const id = node.attributes.find((a) => a.name === ID_ATTRIBUTE)?.value ?? '';
  const run = compiled.run.bind(compiled);
  return { policy: node.name, id, path, scope: opts.scope, section, run };
}

function validateChildren(definition: PolicyDefinition, node: PolicyElement, report: Reporter): void {
  const allowed = definition.children;
  if (allowed === 'policies' || allowed === 'markup') return;
  for (const child of node.children) {
    if (!allowed || !allowed.includes(child.name)) report('PolInvalidChild', child.nameSpan, [node.name, child.name]);
  }
}

function createCompileEnv(section: SectionName, path: string, opts: CompileDocumentOptions, report: Reporter): CompileEnv {
  const limits = expressionLimits(opts.options);
  const env: CompileEnv = {
    section,
    scope: opts.scope,
    path,
    options: opts.options,
    backendIds: opts.backendIds,
    report,
    attr(node, name, spec) {
      return compileAttribute(env, node, name, spec);
    },
    innerMarkup(node) {
      const inner = innerMarkupOf(opts.sourceText ?? '', node);
      return substituteNamedValues(inner, { namedValues: opts.namedValues, placeholders: opts.placeholders }).text;
    },
    text(node, options) {
      const text = node.text;
      if (!text) return undefined;
      if (text.expression) {
        const expression = env.expression(text);
        if (!expression) return undefined;
        return expressionSource(env, expression, (v) => (v === null || v === undefined ? '' : csharpToString(v)));
      }
      return constantSource(options?.trim === false ? text.value : text.value.trim());
    },
    expression(carrier) {
      return compileCarrier(carrier, report, opts.name);
    },
    compileSteps(nodes, pathPrefix) {
      const steps: PolicyStep[] = [];
      const counts = new Map<string, number>();
      for (const child of nodes) {
        const index = (counts.get(child.name) ?? 0) + 1;
        counts.set(child.name, index);
        const step = compileStep(child, `${pathPrefix}/${child.name}[${index}]`, section, opts, report);
        if (step) steps.push(step);
      }
      return steps;
    },
    evaluate(expression, ctx) {
      return evaluateExpression(expression, ctx, limits);
    },
    compileFragment(id, span, pathPrefix) {
      return compileFragment(id, span, pathPrefix, section, opts, report);
    },
  };
  return env;
}

/**
 * include-fragment: the fragment's policies compiled in place, in the including section (APIM inserts the
 * fragment's XML before evaluation). Diagnostics inside the fragment are reported once each at the including
 * element, with their position in the fragment (`fragments/<id>(line,column)`), so the document's own positions stay
 * exact.
 */
function compileFragment(id: string, span: Span, pathPrefix: string, section: SectionName, opts: CompileDocumentOptions, report: Reporter): PolicyStep[] | undefined {
  const xml = opts.fragments?.get(id);
  if (xml === undefined) {
    report('PolUnknownFragment', span, [id]);
    return undefined;
  }
  const stack = opts.fragmentStack ?? [];
  if (stack.includes(id)) {
    report('PolFragmentCycle', span, [id, [...stack, id].join(' → ')]);
    return undefined;
  }
  const name = `fragments/${id}`;
  const doc = readPolicyXml(xml, { name, namedValues: opts.namedValues, placeholders: opts.placeholders });
  const inner: Diagnostic[] = [];
  const innerReport: Reporter = (key, s, args = []) => {
    inner.push(createDiagnostic(key, s, args, name));
  };
  innerReport.push = (d) => inner.push(d);
  for (const d of doc.diagnostics) {
    // An undefined named value in a fragment: as in a document, an error only in strict mode.
    inner.push(d.code === 'XML1003' && !opts.options.strict ? { ...d, severity: 'warning' } : d);
  }
  let steps: PolicyStep[] = [];
  if (doc.root && !hasErrors(inner)) {
    if (doc.root.name !== 'fragment') {
      report('PolFragmentNotFragment', span, [id, doc.root.name]);
      return undefined;
    }
    const fragmentOpts: CompileDocumentOptions = { ...opts, name, sourceText: xml, fragmentStack: [...stack, id] };
    steps = createCompileEnv(section, pathPrefix, fragmentOpts, innerReport).compileSteps(doc.root.children, pathPrefix);
  }
  for (const d of inner) {
    const where = formatDiagnostic({ ...d, source: d.source ?? name }, doc.source, { withSnippet: false });
    report(d.severity === 'error' ? 'PolFragmentError' : 'PolFragmentWarning', span, [id, where]);
  }
  return hasErrors(inner) ? undefined : steps;
}

function compileCarrier(carrier: PolicyAttribute | PolicyText, report: Reporter, source?: string): CompiledExpression | undefined {
  const lifted = carrier.expression;
  if (!lifted) return undefined;
  const { expression, diagnostics } = compileExpression(lifted, source === undefined ? {} : { source });
  for (const d of diagnostics) report.push(d);
  return hasErrors(diagnostics) ? undefined : expression;
}

/** The expression bounds an engine configuration sets (each field falls back to DEFAULT_EVALUATION_LIMITS). */
export function expressionLimits(options: Partial<EngineOptions>): Partial<EvaluationLimits> {
  const limits: Partial<EvaluationLimits> = {};
  if (options.expressionTimeBudgetMs !== undefined) limits.timeBudgetMs = options.expressionTimeBudgetMs;
  if (options.expressionMaxCallDepth !== undefined) limits.maxCallDepth = options.expressionMaxCallDepth;
  if (options.expressionMaxStringLength !== undefined) limits.maxStringLength = options.expressionMaxStringLength;
  if (options.expressionMaxCollectionSize !== undefined) limits.maxCollectionSize = options.expressionMaxCollectionSize;
  if (options.expressionDeadlineClock !== undefined) limits.deadlineClock = options.expressionDeadlineClock;
  return limits;
}

/**
 * Runs an expression under its limits; runtime exceptions become APIM's ExpressionValueEvaluationFailure. Its
 * wall time is charged to the request's pipeline budget, and its deadline is the sooner of its own budget and what
 * the request has left (a timeout is then the pipeline budget's PipelineTimeBudgetExceeded).
 */
export function evaluateExpression(expression: CompiledExpression, ctx: RequestContext, limits: Partial<EvaluationLimits> = {}): unknown {
  const budget = ctx.budget;
  const left = budget.remaining();
  if (left <= 0) throw budget.exceeded(ctx.currentStep?.policy ?? 'expression');
  const clipped = left < (limits.timeBudgetMs ?? DEFAULT_EVALUATION_LIMITS.timeBudgetMs);
  const started = budget.clock();
  try {
    return expression.evaluate({ context: ctx.expressionContext(), now: () => ctx.services.clock.now(), limits: clipped ? { ...limits, timeBudgetMs: left } : limits });
  } catch (error) {
    if (error instanceof PolicyError) throw error;
    if (clipped && error instanceof ExpressionLimitError && error.limit === 'time') throw budget.exceeded(ctx.currentStep?.policy ?? 'expression', error);
    const detail = error instanceof ExpressionRuntimeError ? error.message : error instanceof Error ? error.message : String(error);
    throw new PolicyError({
      source: ctx.currentStep?.policy ?? 'expression',
      reason: 'ExpressionValueEvaluationFailure',
      message: `Expression evaluation failed. ${detail}`,
      cause: error,
    });
  } finally {
    budget.charge(budget.clock() - started);
  }
}

function constantSource<T>(value: T): ValueSource<T> {
  return { isExpression: false, constant: value, get: () => value };
}

function expressionSource<T>(env: CompileEnv, expression: CompiledExpression, convert: (v: unknown, ctx: RequestContext) => T): ValueSource<T> {
  return {
    isExpression: true,
    constant: undefined,
    get: (ctx) => convert(env.evaluate(expression, ctx), ctx),
  };
}

function compileAttribute<K extends AttributeKind>(
  env: CompileEnv,
  node: PolicyElement,
  name: string,
  spec: AttributeSpec & { kind: K },
): ValueSource<AttributeType<K>> | undefined {
  const attribute = node.attributes.find((a) => a.name === name);
  if (!attribute) {
    if (spec.required) {
      env.report('PolMissingAttribute', node.nameSpan, [node.name, name]);
      return undefined;
    }
    if (spec.default === undefined) return undefined;
    return constantSource(spec.default as AttributeType<K>);
  }
  if (attribute.expression) {
    if (spec.expressions === false) {
      env.report('PolExpressionNotAllowed', attribute.valueSpan, [node.name, name]);
      return undefined;
    }
    const expression = env.expression(attribute);
    if (!expression) return undefined;
    return expressionSource(env, expression, (value, ctx) => convertRuntimeValue(value, spec, node.name, name, ctx) as AttributeType<K>);
  }
  const parsed = parseLiteral(attribute.value, spec);
  if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
    const placeholder = bicepPlaceholder(attribute.value);
    if (placeholder) {
      const example = spec.kind === 'bool' ? 'true' : spec.kind === 'enum' ? spec.values?.[0] ?? 'value' : String(spec.min !== undefined && spec.min > 1 ? spec.min : 1);
      env.report('PolBicepPlaceholder', attribute.valueSpan, [node.name, name, placeholder, placeholderHint(placeholder, example)]);
    } else {
      env.report('PolInvalidAttributeValue', attribute.valueSpan, [node.name, name, attribute.value, parsed.error]);
    }
    return undefined;
  }
  return constantSource(parsed as AttributeType<K>) as ValueSource<AttributeType<K>>;
}

function parseLiteral(text: string, spec: AttributeSpec): string | number | boolean | { error: string } {
  const value = text.trim();
  switch (spec.kind) {
    case 'string':
      return text;
    case 'enum': {
      const match = spec.values?.find((v) => v.toLowerCase() === value.toLowerCase());
      return match ?? { error: `expected one of ${spec.values?.join(', ')}` };
    }
    case 'bool':
      if (/^true$/i.test(value)) return true;
      if (/^false$/i.test(value)) return false;
      return { error: 'expected true or false' };
    case 'int':
    case 'number': {
      const n = spec.kind === 'int' ? (/^[+-]?\d+$/.test(value) ? Number(value) : NaN) : Number(value);
      if (value === '' || !Number.isFinite(n)) return { error: spec.kind === 'int' ? 'expected an integer' : 'expected a number' };
      if (spec.min !== undefined && n < spec.min) return { error: `must be at least ${spec.min}` };
      if (spec.max !== undefined && n > spec.max) return { error: `must be at most ${spec.max}` };
      return n;
    }
  }
}

function convertRuntimeValue(value: unknown, spec: AttributeSpec, policy: string, attribute: string, ctx: RequestContext): never | string | number | boolean {
  if (spec.kind === 'string') return value === null || value === undefined ? '' : csharpToString(value);
  if (spec.kind === 'bool' && typeof value === 'boolean') return value;
  if ((spec.kind === 'int' || spec.kind === 'number') && typeof value === 'number') {
    // Expressions get the same checks as literals: whole numbers for int, and the attribute's range.
    const parsed = parseLiteral(String(value), spec);
    if (!(typeof parsed === 'object' && parsed !== null)) return parsed as number;
  }
  if (typeof value === 'string') {
    const parsed = parseLiteral(value, spec);
    if (!(typeof parsed === 'object' && parsed !== null)) return parsed as string | number | boolean;
  }
  throw new PolicyError({
    source: ctx.currentStep?.policy ?? policy,
    reason: 'ExpressionValueEvaluationFailure',
    message: `Expression evaluation failed. Value '${String(value)}' is not valid for attribute '${attribute}' of policy '${policy}'.`,
  });
}

/** C#'s ToString() for values coming out of expressions (null → empty). */
export function csharpToString(value: unknown): string {
  return value === null || value === undefined ? '' : toCSharpString(value);
}
