import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';
import { diagnosticToJson, hasErrors, PolicyLoadError, SourceText, type Diagnostic, type DiagnosticJson } from '../../policy-engine/diagnostics.js';
import { compilePolicyDocument } from '../../policy-engine/pipeline/compile.js';
import { readPolicyXml } from '../../policy-engine/xml/index.js';
import { DEFAULT_ENGINE_OPTIONS, type ScopeKind } from '../../policy-engine/pipeline/types.js';

/** What a lab's Bicep would have defined before its policies are deployed. */
export interface LintContext {
  namedValues: Record<string, string>;
  backendIds: string[];
  /** Plain-text placeholders, e.g. { '{backend-id}': 'inference-backend-pool' }. */
  placeholders: Record<string, string>;
  /** Scope the files are loaded at (default 'api', where the labs put their policies). */
  scope: ScopeKind;
  /** false = unknown policies, named values and backends are warnings (the emulator's --loose). */
  strict: boolean;
  /** Policy fragments by id, for include-fragment (a config file's `fragments`). */
  fragments?: Record<string, string>;
}

export interface LintedFile {
  /** The path as printed (relative to the working directory when below it). */
  file: string;
  status: 'loaded' | 'refused';
  diagnostics: DiagnosticJson[];
}

export interface LintReport {
  files: LintedFile[];
  summary: { files: number; loaded: number; refused: number; warnings: number };
}

export class LintInputError extends Error {
  override name = 'LintInputError';
}

/** Files to lint: each argument is a file, or a folder searched recursively for `*.xml` (sorted, node_modules skipped). */
export function collectPolicyFiles(paths: readonly string[], cwd = process.cwd()): string[] {
  const files: string[] = [];
  for (const p of paths) {
    const absolute = resolve(cwd, p);
    let stats;
    try {
      stats = statSync(absolute);
    } catch {
      throw new LintInputError(`${p}: no such file or folder`);
    }
    if (stats.isFile()) files.push(absolute);
    else files.push(...xmlFilesUnder(absolute));
  }
  return [...new Set(files)];
}

function xmlFilesUnder(folder: string): string[] {
  const found: string[] = [];
  const entries = readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) found.push(...xmlFilesUnder(path));
    } else if (entry.isFile() && entry.name.toLowerCase().endsWith('.xml')) {
      found.push(path);
    }
  }
  return found;
}

/** Loads one policy text offline, as the emulator would at `context.scope`; never throws for policy problems. */
export function lintPolicyText(text: string, name: string, context: LintContext): { status: 'loaded' | 'refused'; diagnostics: Diagnostic[]; source: SourceText } {
  try {
    const compiled = compilePolicyDocument(text, {
      scope: context.scope,
      name,
      namedValues: context.namedValues,
      placeholders: context.placeholders,
      options: { ...DEFAULT_ENGINE_OPTIONS, strict: context.strict },
      backendIds: new Set(context.backendIds),
      fragments: new Map(Object.entries(context.fragments ?? {})),
    });
    return { status: hasErrors(compiled.diagnostics) ? 'refused' : 'loaded', diagnostics: compiled.diagnostics, source: compiled.source };
  } catch (error) {
    if (error instanceof PolicyLoadError) return { status: 'refused', diagnostics: error.diagnostics, source: error.sourceText };
    throw error;
  }
}

export function lintFiles(files: readonly string[], context: LintContext, cwd = process.cwd()): LintReport {
  // Files whose root is <fragment> are policy fragments: named after the file (stamp.xml → 'stamp') unless the
  // context names that id already, so include-fragment in the other files resolves; their policies are checked
  // where a file includes them (a fragment's section is the including one).
  const fragmentFiles = new Map<string, string>();
  for (const absolute of files) {
    let head = '';
    try {
      head = readFileSync(absolute, 'utf8');
    } catch {
      continue; // reported below
    }
    if (!/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<fragment[\s>/]/.test(head)) continue;
    const id = basename(absolute, extname(absolute));
    fragmentFiles.set(absolute, id);
    context = { ...context, fragments: { [id]: head, ...context.fragments } };
  }
  const linted = files.map((absolute): LintedFile => {
    const rel = relative(cwd, absolute);
    const file = rel !== '' && !rel.startsWith('..') ? rel : absolute;
    let text: string;
    try {
      text = readFileSync(absolute, 'utf8');
    } catch (error) {
      throw new LintInputError(`${file}: cannot read: ${(error as Error).message}`);
    }
    if (fragmentFiles.has(absolute)) {
      const doc = readPolicyXml(text, { name: file, namedValues: context.namedValues, placeholders: context.placeholders });
      const problems = doc.diagnostics.map((d) => (!context.strict && d.code === 'XML1003' ? { ...d, severity: 'warning' as const } : d));
      return { file, status: hasErrors(problems) ? 'refused' : 'loaded', diagnostics: problems.map((d) => ({ ...diagnosticToJson(d, doc.source), source: file })) };
    }
    const result = lintPolicyText(text, file, context);
    const diagnostics = [...result.diagnostics]
      .sort((a, b) => a.span.start - b.span.start)
      .map((d) => ({ ...diagnosticToJson(d, result.source), source: file }));
    return { file, status: result.status, diagnostics };
  });
  return {
    files: linted,
    summary: {
      files: linted.length,
      loaded: linted.filter((f) => f.status === 'loaded').length,
      refused: linted.filter((f) => f.status === 'refused').length,
      warnings: linted.reduce((n, f) => n + f.diagnostics.filter((d) => d.severity === 'warning').length, 0),
    },
  };
}

/** `file:line:column code message` per diagnostic, then the summary line. */
export function formatLintReport(report: LintReport): string[] {
  const lines = report.files.flatMap((f) => f.diagnostics.map((d) => `${f.file}:${d.line}:${d.column} ${d.code} ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`));
  const s = report.summary;
  lines.push(`${s.files} ${s.files === 1 ? 'file' : 'files'}: ${s.loaded} loaded, ${s.refused} refused, ${s.warnings} ${s.warnings === 1 ? 'warning' : 'warnings'}`);
  return lines;
}
