/**
 * Corpus measurement (not a test): runs the `policies lint` machinery over folders of real policy files nobody here
 * wrote and prints counts by outcome and by blocker (policy, attribute, expression member).
 *
 * Run: node --import tsx bench/policy-corpus.ts <folder|file>… [--strict] [--placeholders] [--json] [--top N]
 *
 * By default files load as `policies lint --loose` would, so named values and backends the deployment defines
 * (unknown here) do not hide what the emulator itself lacks; unknown policies are then counted as skipped.
 * Every policy expression is also compiled on its own, so expressions inside skipped policies are measured too.
 * --placeholders: whole-value Bicep placeholders (`"{tpm}"`, `>{policy-xml}<`), which a lab's deployment replaces,
 * are given the value 1 (attributes, leaf elements) or nothing (policy content) first, so that what lies behind them is measured.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Diagnostic } from '../policy-engine/diagnostics.js';
import { compileExpression } from '../policy-engine/expressions/index.js';
import { readPolicyXml } from '../policy-engine/xml/index.js';
import type { LiftedExpression, PolicyElement } from '../policy-engine/xml/model.js';
import { collectPolicyFiles, lintPolicyText, type LintContext } from '../emulator/lint/lint.js';

const args = process.argv.slice(2);
const strict = args.includes('--strict');
const json = args.includes('--json');
const fillPlaceholders = args.includes('--placeholders');
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
const paths = args.filter((a, i) => !a.startsWith('--') && !(topAt >= 0 && i === topAt + 1));
if (paths.length === 0) {
  console.error('usage: node --import tsx bench/policy-corpus.ts <folder|file>… [--strict] [--placeholders] [--json] [--top N]');
  process.exit(2);
}

type Outcome = 'loaded' | 'loaded, policies skipped' | 'refused' | 'fragment' | 'not a policy document';

/** Syntax-level expression diagnostics (the expression does not parse). */
const SYNTAX_CODES = new Set(['EXPR2001', 'EXPR2002', 'EXPR2003', 'EXPR2004', 'EXPR2005', 'EXPR2006', 'EXPR2007', 'EXPR2008', 'EXPR2021', 'XML1002']);

/** What a diagnostic says is missing: `policy x`, `attribute x@y`, `member T.M`, … (one line per kind of gap). */
function blocker(d: { code: string; message: string }): string {
  const quoted = [...d.message.matchAll(/'([^']*)'/g)].map((m) => m[1]!);
  switch (d.code) {
    case 'POL3001':
    case 'POL3002':
      return `policy ${quoted[0]}`;
    case 'POL3005':
      return `attribute ${quoted[0]}@${quoted[1]}`;
    case 'POL3004':
      return `attribute value ${quoted[1]}@${quoted[0]}`;
    case 'POL3010':
      return `child element <${/<([^>]+)>/.exec(d.message)?.[1]}> in ${quoted[0]}`;
    case 'XML1003':
      return 'named value not defined here (the deployment defines it)';
    case 'POL3016':
      return 'backend not defined here (the deployment defines it)';
    case 'EXPR2015':
      return `member ${quoted[0]}.${quoted[1]}`;
    case 'EXPR2014':
      return `type ${quoted[0]}`;
    case 'EXPR2011':
      return `name ${quoted[0]}`;
    case 'EXPR2010':
      return `unsupported ${d.message.replace(/ is not supported by the emulator.*$/, '')}`;
    case 'EXPR2020':
      return `overload ${quoted[0]}(${quoted[1] ?? ''} args)`;
    default:
      return `${d.code} ${(d.code.startsWith('EXPR') ? d.message : d.message.replace(/'[^']*'/g, "'…'")).slice(0, 100)}`;
  }
}

const SECTIONS = new Set(['policies', 'inbound', 'backend', 'outbound', 'on-error', 'fragment']);

/** `="{tpm}"` → `="1"`; `<application-id>{id}</application-id>` → `…>1<…`; `<inbound>{policy-xml}</inbound>` → empty. */
function fillBicepPlaceholders(text: string): string {
  return text
    .replace(/="\{[A-Za-z][A-Za-z0-9_-]*\}"/g, '="1"')
    .replace(/(<([A-Za-z][\w:.-]*)[^>]*>)\s*\{[A-Za-z][A-Za-z0-9_-]*\}\s*(<\/\2>)/g, (_m, open: string, name: string, close: string) => `${open}${SECTIONS.has(name) ? '' : '1'}${close}`)
    .replace(/>\s*\{[A-Za-z][A-Za-z0-9_-]*\}\s*</g, '><');
}

function expressionsIn(node: PolicyElement, out: LiftedExpression[] = []): LiftedExpression[] {
  for (const a of node.attributes) if (a.expression) out.push(a.expression);
  if (node.text?.expression) out.push(node.text.expression);
  for (const c of node.children) expressionsIn(c, out);
  return out;
}

const context: LintContext = { namedValues: {}, backendIds: [], placeholders: {}, scope: 'api', strict };
const files = collectPolicyFiles(paths);
const outcomes = new Map<Outcome, number>();
const blockers = new Map<string, { files: Set<string>; count: number }>();
const exprBlockers = new Map<string, number>();
const expressions = { found: 0, parsed: 0, compiled: 0 };
const add = (map: Map<string, { files: Set<string>; count: number }>, key: string, file: string) => {
  const entry = map.get(key) ?? { files: new Set<string>(), count: 0 };
  entry.files.add(file);
  entry.count++;
  map.set(key, entry);
};

for (const file of files) {
  const name = relative(process.cwd(), file);
  const raw = readFileSync(file, 'utf8');
  const text = fillPlaceholders ? fillBicepPlaceholders(raw) : raw;
  const result = lintPolicyText(text, name, context);
  const codes = result.diagnostics.map((d) => d.code);
  const doc = readPolicyXml(text, { name });
  const rootIs = doc.root?.name === 'fragment' ? 'fragment' : doc.root && doc.root.name !== 'policies' ? 'other' : undefined;
  let outcome: Outcome;
  if (rootIs === 'fragment') outcome = 'fragment';
  else if (rootIs === 'other' || codes.includes('XML1005')) outcome = 'not a policy document';
  else if (result.status === 'refused') outcome = 'refused';
  else outcome = codes.includes('POL3002') ? 'loaded, policies skipped' : 'loaded';
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  if (outcome === 'not a policy document') continue;
  // A fragment is refused as a whole at its root (counted in the outcomes); its expressions are still measured below.
  if (outcome !== 'fragment') for (const d of result.diagnostics as Diagnostic[]) {
    if (d.severity === 'error' || d.code === 'POL3002') add(blockers, blocker(d), name);
  }
  // Every expression on its own: parses? compiles (every type and member known)?
  if (!doc.root) continue;
  for (const expression of expressionsIn(doc.root)) {
    expressions.found++;
    const { diagnostics } = compileExpression(expression);
    const errors = diagnostics.filter((d) => d.severity === 'error');
    if (!errors.some((d) => SYNTAX_CODES.has(d.code))) expressions.parsed++;
    if (errors.length === 0) expressions.compiled++;
    for (const d of errors) exprBlockers.set(blocker(d), (exprBlockers.get(blocker(d)) ?? 0) + 1);
  }
}

const sortedBlockers = [...blockers.entries()].sort((a, b) => b[1].files.size - a[1].files.size || b[1].count - a[1].count || a[0].localeCompare(b[0]));
const sortedExpr = [...exprBlockers.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
const pct = (n: number, d: number) => (d === 0 ? '—' : `${((100 * n) / d).toFixed(1)} %`);

if (json) {
  console.log(
    JSON.stringify(
      {
        mode: strict ? 'strict' : 'loose',
        files: files.length,
        outcomes: Object.fromEntries(outcomes),
        expressions,
        blockers: sortedBlockers.map(([k, v]) => ({ blocker: k, files: v.files.size, occurrences: v.count })),
        expressionBlockers: sortedExpr.map(([k, v]) => ({ blocker: k, occurrences: v })),
      },
      null,
      2,
    ),
  );
} else {
  console.log(`${files.length} files (${strict ? 'strict' : 'loose: undefined named values and backends are warnings'}${fillPlaceholders ? '; Bicep placeholders filled' : ''}) under ${paths.join(', ')}`);
  console.log('\nBy outcome:');
  for (const o of ['loaded', 'loaded, policies skipped', 'refused', 'fragment', 'not a policy document'] as Outcome[]) console.log(`  ${String(outcomes.get(o) ?? 0).padStart(5)}  ${o}`);
  console.log(`\nExpressions: ${expressions.found} found, ${expressions.parsed} parse (${pct(expressions.parsed, expressions.found)}), ${expressions.compiled} compile with every type and member known (${pct(expressions.compiled, expressions.found)})`);
  console.log(`\nBlockers (files, occurrences; top ${top} of ${sortedBlockers.length}):`);
  for (const [k, v] of sortedBlockers.slice(0, top)) console.log(`  ${String(v.files.size).padStart(5)} ${String(v.count).padStart(5)}  ${k}`);
  console.log(`\nExpression blockers (occurrences; top ${top} of ${sortedExpr.length}):`);
  for (const [k, v] of sortedExpr.slice(0, top)) console.log(`  ${String(v).padStart(5)}  ${k}`);
}
