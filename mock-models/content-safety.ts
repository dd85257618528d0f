/**
 * A deterministic stand-in for Azure AI Content Safety's text APIs (`text:analyze`, `text:shieldPrompt`), the
 * service llm-content-safety calls through its backend. Severities come from configured terms, not a model:
 * each harm category lists terms with the severity they score, blocklists list terms, and prompt attacks list
 * phrases. Matching is case-insensitive on whole words (a term may be several words). With no configuration a
 * small built-in lexicon applies, so a lab's "how to kill someone" is Violence 4 out of the box.
 */
import { createCallLog } from './call-log.js';

export const HARM_CATEGORIES = ['Hate', 'SelfHarm', 'Sexual', 'Violence'] as const;
export type HarmCategory = (typeof HARM_CATEGORIES)[number];

export interface ContentSafetyTerm {
  term: string;
  /** 0–7 (EightSeverityLevels); FourSeverityLevels reports it rounded down to 0, 2, 4 or 6. */
  severity: number;
}

export interface MockContentSafetyOptions {
  /** Terms per harm category with the severity they score (replaces the built-in lexicon for that category). */
  categories?: Partial<Record<HarmCategory, ContentSafetyTerm[]>>;
  /** Custom blocklists by name, as created in the Content Safety resource: their terms (`/pattern/` = a regular expression). */
  blocklists?: Record<string, string[]>;
  /** Phrases Prompt Shields reports as a user prompt attack (replaces the built-in list). */
  promptAttacks?: string[];
  /** Longest text `text:analyze` accepts (Azure: 10,000 characters). */
  maxTextLength?: number;
  /** How many calls `calls` keeps, the most recent (default 5,000, as the mock models); past it the oldest tenth is dropped. */
  maxCalls?: number;
  clock?: { now(): number };
}

/** One request the mock received. */
export interface ContentSafetyCall {
  at: number;
  operation: 'text:analyze' | 'text:shieldPrompt';
  status: number;
  /** The text analysed (or the user prompt shielded). */
  text: string;
}

export interface MockContentSafety {
  handle(request: Request): Promise<Response>;
  readonly calls: ReadonlyArray<ContentSafetyCall>;
  reset(): void;
}

export const DEFAULT_HARM_TERMS: Readonly<Record<HarmCategory, readonly ContentSafetyTerm[]>> = {
  Violence: [
    { term: 'kill', severity: 4 },
    { term: 'murder', severity: 6 },
    { term: 'bomb', severity: 5 },
    { term: 'stab', severity: 4 },
    { term: 'shoot', severity: 3 },
    { term: 'fight', severity: 1 },
  ],
  Hate: [
    { term: 'inferior race', severity: 6 },
    { term: 'hate them all', severity: 4 },
    { term: 'idiots', severity: 2 },
  ],
  SelfHarm: [
    { term: 'kill myself', severity: 6 },
    { term: 'suicide', severity: 4 },
    { term: 'hurt myself', severity: 4 },
  ],
  Sexual: [
    { term: 'explicit sex', severity: 6 },
    { term: 'nude', severity: 4 },
    { term: 'sexy', severity: 2 },
  ],
};

export const DEFAULT_PROMPT_ATTACKS: readonly string[] = [
  'ignore previous instructions',
  'ignore all previous instructions',
  'ignore your instructions',
  'disregard your rules',
  'you are now dan',
  'do anything now',
  'developer mode enabled',
];

const MAX_TEXT_LENGTH = 10_000;
const API_VERSIONS = new Set(['2023-10-01', '2024-02-15-preview', '2024-09-01', '2024-09-15-preview']);

function normalise(text: string): string {
  return ` ${(text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []).join(' ')} `;
}

function contains(normalisedText: string, term: string): boolean {
  const t = normalise(term);
  return t.trim() !== '' && normalisedText.includes(t);
}

/** A blocklist item: a term (whole words, case-insensitive) or, written `/pattern/`, a regular expression (as isRegex items). */
function blocklistItemMatches(text: string, normalisedText: string, item: string): boolean {
  const regex = /^\/(.+)\/$/s.exec(item);
  if (!regex) return contains(normalisedText, item);
  try {
    return new RegExp(regex[1]!, 'iu').test(text);
  } catch {
    return false;
  }
}

function errorResponse(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message, details: [] } }, { status });
}

/** Creates the mock; the same options always give the same answers. */
export function createMockContentSafety(options: MockContentSafetyOptions = {}): MockContentSafety {
  const terms: Record<HarmCategory, readonly ContentSafetyTerm[]> = { ...DEFAULT_HARM_TERMS, ...options.categories } as Record<HarmCategory, readonly ContentSafetyTerm[]>;
  const blocklists = new Map(Object.entries(options.blocklists ?? {}).map(([name, items]) => [name.toLowerCase(), { name, items }]));
  const attacks = options.promptAttacks ?? DEFAULT_PROMPT_ATTACKS;
  const maxText = options.maxTextLength ?? MAX_TEXT_LENGTH;
  const { calls, record } = createCallLog<ContentSafetyCall>(options.maxCalls);

  function analyze(body: Record<string, unknown>): Response {
    const text = body.text;
    if (typeof text !== 'string') return errorResponse(400, 'InvalidRequestBody', "The 'text' field is required and must be a string.");
    if (text.length > maxText) return errorResponse(400, 'InvalidRequestBody', `The text is too long: ${text.length} characters; at most ${maxText} are allowed.`);
    const outputType = body.outputType ?? 'FourSeverityLevels';
    if (outputType !== 'FourSeverityLevels' && outputType !== 'EightSeverityLevels') {
      return errorResponse(400, 'InvalidRequestBody', `Invalid outputType '${String(outputType)}'.`);
    }
    const requested = Array.isArray(body.categories) && body.categories.length > 0 ? (body.categories as unknown[]) : [...HARM_CATEGORIES];
    for (const c of requested) {
      if (!HARM_CATEGORIES.includes(c as HarmCategory)) return errorResponse(400, 'InvalidRequestBody', `Invalid category '${String(c)}'.`);
    }
    const names = Array.isArray(body.blocklistNames) ? (body.blocklistNames as unknown[]).map(String) : [];
    const lists = [];
    for (const name of names) {
      const list = blocklists.get(name.toLowerCase());
      if (!list) return errorResponse(404, 'NotFound', `The blocklist '${name}' does not exist.`);
      lists.push(list);
    }
    const normalised = normalise(text);
    const blocklistsMatch: Array<{ blocklistName: string; blocklistItemId: string; blocklistItemText: string }> = [];
    for (const list of lists) {
      list.items.forEach((item, i) => {
        if (blocklistItemMatches(text, normalised, item)) blocklistsMatch.push({ blocklistName: list.name, blocklistItemId: `${list.name}-${i + 1}`, blocklistItemText: item });
      });
    }
    if (blocklistsMatch.length > 0 && body.haltOnBlocklistHit === true) return Response.json({ blocklistsMatch, categoriesAnalysis: [] });
    const categoriesAnalysis = (requested as HarmCategory[]).map((category) => {
      let severity = 0;
      for (const t of terms[category] ?? []) if (contains(normalised, t.term)) severity = Math.max(severity, Math.min(7, Math.max(0, Math.trunc(t.severity))));
      return { category, severity: outputType === 'FourSeverityLevels' ? severity - (severity % 2) : severity };
    });
    return Response.json({ blocklistsMatch, categoriesAnalysis });
  }

  function shield(body: Record<string, unknown>): { response: Response; text: string } {
    const prompt = typeof body.userPrompt === 'string' ? body.userPrompt : '';
    const documents = Array.isArray(body.documents) ? (body.documents as unknown[]).map(String) : [];
    const attacked = (text: string) => attacks.some((a) => contains(normalise(text), a));
    return {
      text: prompt,
      response: Response.json({ userPromptAnalysis: { attackDetected: attacked(prompt) }, documentsAnalysis: documents.map((d) => ({ attackDetected: attacked(d) })) }),
    };
  }

  return {
    get calls() {
      return calls;
    },
    reset() {
      calls.length = 0;
    },
    async handle(request) {
      const url = new URL(request.url);
      const operation = /\/contentsafety\/text:(analyze|shieldPrompt)\/?$/i.exec(decodeURIComponent(url.pathname))?.[1];
      if (!operation) return errorResponse(404, 'NotFound', 'Resource not found.');
      const name = operation.toLowerCase() === 'analyze' ? 'text:analyze' : 'text:shieldPrompt';
      const at = options.clock?.now() ?? 0;
      const version = url.searchParams.get('api-version');
      if (!version || !API_VERSIONS.has(version)) {
        record({ at, operation: name, status: 404, text: '' });
        return errorResponse(404, 'NotFound', 'Resource not found.');
      }
      let body: Record<string, unknown>;
      try {
        const parsed = (await request.json()) as unknown;
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
        body = parsed as Record<string, unknown>;
      } catch {
        record({ at, operation: name, status: 400, text: '' });
        return errorResponse(400, 'InvalidRequestBody', 'The request body is not valid JSON.');
      }
      if (name === 'text:analyze') {
        const response = analyze(body);
        record({ at, operation: name, status: response.status, text: typeof body.text === 'string' ? body.text : '' });
        return response;
      }
      const { response, text } = shield(body);
      record({ at, operation: name, status: response.status, text });
      return response;
    },
  };
}
