import { describe, expect, it } from 'vitest';
import { compilePolicyDocument } from '../../policy-engine/pipeline/compile.js';
import { compileExpression, expressionSource } from '../../policy-engine/expressions/index.js';
import { DEFAULT_ENGINE_OPTIONS, PolicyLoadError } from '../../policy-engine/index.js';
import { compileKql, KqlError } from '../../emulator/app-insights/kql/index.js';
import { kqlTables } from '../../emulator/app-insights/tables.js';
import { TOKEN_METRICS_EMITTING_POLICY, TOKEN_RATE_LIMITING_POLICY } from '../../emulator/config/presets.js';
import { LAB_KQL } from '../support/lab.js';

/** A small seeded PRNG so failures reproduce. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = `<>/="'@(){}[];:.,!?&|-+*%$ \n\tabcxyz0189_${'"'}`;

/** Deletes, duplicates, swaps or inserts characters at random places. */
function mutate(text: string, random: () => number, edits: number): string {
  let out = text;
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * (out.length + 1));
    const op = random();
    if (op < 0.3) out = out.slice(0, at) + out.slice(at + 1);
    else if (op < 0.55) out = out.slice(0, at) + ALPHABET[Math.floor(random() * ALPHABET.length)] + out.slice(at);
    else if (op < 0.8) {
      const len = Math.floor(random() * 12);
      out = out.slice(0, at) + out.slice(at, at + len) + out.slice(at);
    } else {
      const other = Math.floor(random() * out.length);
      const chars = out.split('');
      [chars[at], chars[other]] = [chars[other] ?? '', chars[at] ?? ''];
      out = chars.join('');
    }
  }
  return out;
}

const CASES = 1500;

describe('fuzzing: bad input gets a structured error, never a crash', () => {
  it(`policy XML: ${CASES} mutations of the lab policies load or fail with PolicyLoadError (diagnostics with positions)`, () => {
    const random = rng(1);
    let failures = 0;
    for (let i = 0; i < CASES; i++) {
      const base = i % 2 === 0 ? TOKEN_RATE_LIMITING_POLICY : TOKEN_METRICS_EMITTING_POLICY;
      const xml = mutate(base, random, 1 + Math.floor(random() * 6));
      try {
        compilePolicyDocument(xml, { scope: 'api', name: 'fuzz.xml', placeholders: { '{backend-id}': 'foundry1' }, options: DEFAULT_ENGINE_OPTIONS, backendIds: new Set(['foundry1']) });
      } catch (error) {
        if (!(error instanceof PolicyLoadError)) throw new Error(`unexpected ${String(error)} for:\n${xml}`);
        failures++;
        for (const d of error.toJSON()) {
          expect(d.line).toBeGreaterThanOrEqual(1);
          expect(d.column).toBeGreaterThanOrEqual(1);
          expect(d.code).toMatch(/^(XML1|EXPR2|POL3)\d{3}$/);
        }
      }
    }
    expect(failures).toBeGreaterThan(CASES / 4); // the mutations really do break things
  });

  it(`expressions: ${CASES} mutations compile or return diagnostics, never throw`, () => {
    const random = rng(2);
    const seeds = [
      'context.Request.Headers.GetValueOrDefault("x-user-id", "N/A")',
      '(string)context.Product?.Id == "gold" ? context.Subscription.Id : $"{context.Api.Id}-x"',
      '((JObject)context.Variables["reqBody"]).Property("model")?.Value?.ToString() ?? string.Empty',
    ];
    for (let i = 0; i < CASES; i++) {
      const code = mutate(seeds[i % seeds.length]!, random, 1 + Math.floor(random() * 5));
      const result = compileExpression(expressionSource(code));
      if (!result.expression) expect(result.diagnostics.length).toBeGreaterThan(0);
    }
  });

  it(`KQL: ${CASES} mutations of the lab query compile or fail with KqlError`, () => {
    const random = rng(3);
    const tables = kqlTables('all');
    let failures = 0;
    for (let i = 0; i < CASES; i++) {
      const query = mutate(LAB_KQL, random, 1 + Math.floor(random() * 5));
      try {
        compileKql(query, { tables, nowMs: 0 });
      } catch (error) {
        if (!(error instanceof KqlError)) throw new Error(`unexpected ${String(error)} for: ${query}`);
        expect(error.line).toBeGreaterThanOrEqual(1);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(CASES / 4);
  });
});
