import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The layout tells the architecture: these tests keep the dependency arrows pointing one way.
const ROOT = resolve(import.meta.dirname, '../..');
const SOURCE_DIRS = ['emulator', 'policy-engine', 'mock-models'];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Relative imports of a file; `import type` / `export type` are left out (erased at run time) unless asked for. */
function importsOf(file: string, includeTypeOnly: boolean): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const found: string[] = [];
  const pattern = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"](\.[^'"]+)['"]|^\s*import\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/gm;
  for (const m of text.matchAll(pattern)) {
    if (m[2] && !includeTypeOnly) continue;
    const spec = m[3] ?? m[4] ?? m[5]!;
    found.push(relative(ROOT, resolve(ROOT, dirname(file), spec.replace(/\.js$/, '.ts'))));
  }
  return found;
}

const files = SOURCE_DIRS.flatMap(sourceFiles);

describe('dependency rules', () => {
  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files).toContain('policy-engine/pipeline/execute.ts');
  });

  const rules: Array<{ name: string; from: RegExp; mustNotImport: RegExp }> = [
    { name: 'policy-engine knows nothing of the emulator or mock models', from: /^policy-engine\//, mustNotImport: /^(emulator|mock-models)\// },
    { name: 'mock-models is usable alone', from: /^mock-models\//, mustNotImport: /^(emulator|policy-engine\/(pipeline|policies|xml))\// },
    { name: 'policies do not import the pipeline executor', from: /^policy-engine\/policies\//, mustNotImport: /^policy-engine\/pipeline\/execute\.ts$/ },
    { name: 'the control plane does not import the test harness', from: /^emulator\/control-plane\//, mustNotImport: /^emulator\/testing\// },
    { name: 'only the harness (and the package entry) imports the harness', from: /^emulator\/(?!testing\/|index\.ts$)/, mustNotImport: /^emulator\/testing\// },
  ];
  for (const rule of rules) {
    it(rule.name, () => {
      const violations = files
        .filter((f) => rule.from.test(f))
        .flatMap((f) => importsOf(f, true).filter((i) => rule.mustNotImport.test(i)).map((i) => `${f} → ${i}`));
      expect(violations).toEqual([]);
    });
  }

  it('has no import cycles (run-time imports)', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f, false)]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (f: string) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') return void cycles.push([...path.slice(path.indexOf(f)), f].join(' → '));
      state.set(f, 'open');
      path.push(f);
      for (const next of graph.get(f) ?? []) visit(next);
      path.pop();
      state.set(f, 'done');
    };
    for (const f of files) visit(f);
    expect(cycles).toEqual([]);
  });

  it('policy-engine does not import express', () => {
    const offenders = files.filter((f) => f.startsWith('policy-engine/') && /from\s+['"]express['"]/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('nothing but the clock reads the wall clock', () => {
    const offenders = files.filter((f) => f !== 'policy-engine/clock.ts' && /\bDate\.now\(\)/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
