/**
 * Token counting with gpt-tokenizer, shared by the mock models and the gateway's prompt estimator.
 * Encodings load lazily (about 0.2–0.4 s each) on first use; `preloadEncodings()` warms them up.
 * Chat prompts are counted with the OpenAI cookbook formula (`num_tokens_from_messages`):
 * 3 per message + role + content [+ name + 1] + 3 to prime the reply; tools use the cookbook estimate.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export type EncodingName = 'o200k_base' | 'cl100k_base';

interface EncodingModule {
  encode(text: string, options?: { disallowedSpecial?: Set<string> }): number[];
  decode(tokens: Iterable<number>): string;
}

const requireCjs = createRequire(import.meta.url);
const loaded = new Map<EncodingName, EncodingModule>();
const loadTimesMs = new Map<EncodingName, number>();
/** User text may contain `<|endoftext|>`; the real API counts it as plain text, so nothing is disallowed. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

function loadEncoding(name: EncodingName): EncodingModule {
  let enc = loaded.get(name);
  if (!enc) {
    const started = performance.now();
    enc = encodingFromTiktoken(name) ?? (requireCjs(`gpt-tokenizer/cjs/encoding/${name}`) as EncodingModule);
    loadTimesMs.set(name, performance.now() - started);
    loaded.set(name, enc);
  }
  return enc;
}

type Ranks = Array<string | number[]>;

/**
 * gpt-tokenizer's encoding built from its tiktoken file (data/<name>.tiktoken, exported by the package) with its own
 * GptEncoding class, as its encoding module builds it from the JS copy of the same ranks (a test compares both). The
 * JS copy is a 2.4 MB array literal (o200k): parsing it took ~1.5x the CPU and left the process ~20 MB larger.
 * Undefined when the file or class is not where gpt-tokenizer 4 has them (the encoding module is used then).
 */
function encodingFromTiktoken(name: EncodingName): EncodingModule | undefined {
  let ranks: Ranks;
  let GptEncoding: { getEncodingApi(name: string, ranks: () => Ranks): EncodingModule };
  try {
    ranks = tiktokenRanks(readFileSync(requireCjs.resolve(`gpt-tokenizer/data/${name}.tiktoken`)));
    ({ GptEncoding } = requireCjs('gpt-tokenizer/cjs/GptEncoding') as { GptEncoding: typeof GptEncoding });
  } catch {
    return undefined;
  }
  return GptEncoding.getEncodingApi(name, () => ranks);
}

const FATAL_UTF8 = new TextDecoder('utf8', { fatal: true });
const BASE64 = new Int8Array(256).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) BASE64[c.charCodeAt(0)] = i;

/**
 * The ranks of a tiktoken file (`<base64 token> <rank>` per line) as gpt-tokenizer's generator writes them: the
 * token's text when its bytes are UTF-8 that decodes and encodes back to the same bytes, else the bytes. The base64
 * is decoded here into one buffer (a Buffer per token cost twice the CPU). Throws on a line of another shape.
 */
export function tiktokenRanks(file: Uint8Array): Ranks {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const decoded = Buffer.allocUnsafe(bytes.length);
  const ranks: Ranks = [];
  const bad = (at: number) => new Error(`not a tiktoken line at byte ${at}`);
  let out = 0;
  for (let p = 0; p < bytes.length; ) {
    const lineStart = p;
    const start = out;
    let acc = 0;
    let bits = 0;
    let ascii = true;
    for (; p < bytes.length && bytes[p] !== 32 && bytes[p] !== 10; p++) {
      if (bytes[p] === 61) continue; // '=' padding
      const v = BASE64[bytes[p]!]!;
      if (v < 0) throw bad(lineStart);
      acc = ((acc << 6) | v) & 0xffffff;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        const byte = (acc >> bits) & 255;
        if (byte > 127) ascii = false;
        decoded[out++] = byte;
      }
    }
    if (p >= bytes.length || bytes[p] === 10) {
      if (p === lineStart) {
        p++; // an empty line
        continue;
      }
      throw bad(lineStart);
    }
    p++; // the space
    let rank = 0;
    const digitsStart = p;
    for (; p < bytes.length && bytes[p] !== 10; p++) {
      const d = bytes[p]! - 48;
      if (d < 0 || d > 9) throw bad(lineStart);
      rank = rank * 10 + d;
    }
    if (p === digitsStart || out === start) throw bad(lineStart);
    p++;
    let token: string | undefined = decoded.toString(ascii ? 'latin1' : 'utf8', start, out);
    // Invalid UTF-8 decodes to U+FFFD; a leading BOM is dropped by the generator's TextDecoder (bytes then).
    if (!ascii && (token.includes('\ufffd') || token.charCodeAt(0) === 0xfeff)) {
      try {
        token = FATAL_UTF8.decode(decoded.subarray(start, out));
        if (Buffer.byteLength(token) !== out - start) token = undefined;
      } catch {
        token = undefined;
      }
    }
    ranks[rank] = token ?? Array.from(decoded.subarray(start, out));
  }
  if (ranks.length === 0) throw new Error('no tiktoken ranks');
  return ranks;
}

/** Loads both encodings now; returns the load time per encoding in milliseconds (0 if already loaded). */
export function preloadEncodings(names: readonly EncodingName[] = ['o200k_base', 'cl100k_base']): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of names) {
    const before = loaded.has(name);
    loadEncoding(name);
    out[name] = before ? 0 : (loadTimesMs.get(name) ?? 0);
  }
  return out;
}

/** Load time of each encoding loaded so far, in milliseconds. */
export function encodingLoadTimes(): Record<string, number> {
  return Object.fromEntries(loadTimesMs);
}

const CL100K_PREFIXES = ['gpt-4-', 'gpt-35', 'gpt-3.5', 'text-embedding', 'text-davinci', 'davinci', 'babbage'];

/**
 * The encoding a model uses, by model name (not deployment name): cl100k_base for gpt-4, gpt-4-turbo,
 * gpt-35/3.5-turbo and embeddings; o200k_base for gpt-4o, gpt-4.1, o-series, gpt-5 and anything unknown.
 */
export function encodingForModel(model: string | undefined): EncodingName {
  if (!model) return 'o200k_base';
  const m = model.toLowerCase();
  if (m === 'gpt-4' || CL100K_PREFIXES.some((p) => m.startsWith(p))) return 'cl100k_base';
  return 'o200k_base';
}

export function encodeText(text: string, encoding: EncodingName = 'o200k_base'): number[] {
  return loadEncoding(encoding).encode(text, PLAIN_TEXT);
}

export function decodeTokens(tokens: readonly number[], encoding: EncodingName = 'o200k_base'): string {
  return loadEncoding(encoding).decode(tokens);
}

/** Counts of recently seen short texts (prompts repeat across requests); a bounded map, oldest evicted first. */
const COUNT_CACHE_LIMIT = 4096;
const COUNT_CACHE_MAX_TEXT = 2048;
const countCache: Record<EncodingName, Map<string, number>> = { o200k_base: new Map(), cl100k_base: new Map() };

export function countTextTokens(text: string, encoding: EncodingName = 'o200k_base'): number {
  if (text.length === 0) return 0;
  if (text.length > COUNT_CACHE_MAX_TEXT) return loadEncoding(encoding).encode(text, PLAIN_TEXT).length;
  const cache = countCache[encoding];
  let count = cache.get(text);
  if (count === undefined) {
    count = loadEncoding(encoding).encode(text, PLAIN_TEXT).length;
    if (cache.size >= COUNT_CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(text, count);
  }
  return count;
}

/** A chat message as clients send it; unknown keys with string values are counted like the cookbook does. */
export interface ChatMessageLike {
  role?: string;
  content?: string | null | ReadonlyArray<ContentPartLike>;
  name?: string;
  tool_calls?: ReadonlyArray<{ function?: { name?: string; arguments?: string } }>;
  [key: string]: unknown;
}

export interface ContentPartLike {
  type?: string;
  text?: string;
  image_url?: { url?: string; detail?: string } | string;
  [key: string]: unknown;
}

export interface ToolLike {
  type?: string;
  function?: FunctionLike;
}

export interface FunctionLike {
  name?: string;
  description?: string;
  parameters?: { properties?: Record<string, { type?: string; description?: string; enum?: unknown[] }> };
}

export interface CountChatOptions {
  /** Explicit encoding; otherwise derived from `model`. */
  encoding?: EncodingName;
  /** Model name used to pick the encoding and the tool constants. */
  model?: string;
  /** `tools` from the request body (each `{ type: 'function', function }`). */
  tools?: ReadonlyArray<ToolLike>;
  /** Legacy `functions` from the request body. */
  functions?: ReadonlyArray<FunctionLike>;
}

const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const REPLY_PRIMING = 3;
/** Cookbook estimate for an image part without its size: one 512px tile at high detail (85 + 170). */
const IMAGE_LOW_DETAIL_TOKENS = 85;
const IMAGE_DEFAULT_TOKENS = 255;

/** Prompt tokens of a chat request, as `usage.prompt_tokens` reports them. */
export function countChatPromptTokens(messages: ReadonlyArray<ChatMessageLike>, options: CountChatOptions = {}): number {
  const encoding = options.encoding ?? encodingForModel(options.model);
  const count = (s: string): number => countTextTokens(s, encoding);
  let total = 0;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE;
    for (const [key, value] of Object.entries(message)) {
      if (value === null || value === undefined) continue;
      if (key === 'content') total += countContent(value as ChatMessageLike['content'], count);
      else if (key === 'tool_calls' && Array.isArray(value)) {
        for (const call of value as ChatMessageLike['tool_calls'] & object) {
          total += count(call.function?.name ?? '') + count(call.function?.arguments ?? '');
        }
      } else if (typeof value === 'string') {
        total += count(value);
        if (key === 'name') total += TOKENS_PER_NAME;
      }
    }
  }
  total += REPLY_PRIMING;
  const functions = [...(options.tools ?? []).map((t) => t.function).filter((f): f is FunctionLike => !!f), ...(options.functions ?? [])];
  if (functions.length > 0) total += countFunctionTokens(functions, encoding, options.model);
  return total;
}

function countContent(content: ChatMessageLike['content'], count: (s: string) => number): number {
  if (typeof content === 'string') return count(content);
  if (!Array.isArray(content)) return 0;
  let total = 0;
  for (const part of content as ReadonlyArray<ContentPartLike>) {
    if (typeof part?.text === 'string') total += count(part.text);
    else if (part?.type === 'image_url' || part?.type === 'input_image') {
      const detail = typeof part.image_url === 'object' ? part.image_url?.detail : undefined;
      total += detail === 'low' ? IMAGE_LOW_DETAIL_TOKENS : IMAGE_DEFAULT_TOKENS;
    }
  }
  return total;
}

/** The cookbook's `num_tokens_for_tools` constants (gpt-4o family vs gpt-4/3.5). */
function countFunctionTokens(functions: readonly FunctionLike[], encoding: EncodingName, model: string | undefined): number {
  const legacy = encoding === 'cl100k_base' && !!model && !model.toLowerCase().startsWith('text-');
  const funcInit = legacy ? 10 : 7;
  const propInit = 3;
  const propKey = 3;
  const enumInit = -3;
  const enumItem = 3;
  const funcEnd = 12;
  const count = (s: string): number => countTextTokens(s, encoding);
  let total = 0;
  for (const f of functions) {
    total += funcInit;
    const desc = (f.description ?? '').replace(/\.$/, '');
    total += count(`${f.name ?? ''}:${desc}`);
    const props = f.parameters?.properties ?? {};
    const keys = Object.keys(props);
    if (keys.length > 0) {
      total += propInit;
      for (const key of keys) {
        total += propKey;
        const p = props[key] ?? {};
        if (Array.isArray(p.enum)) {
          total += enumInit;
          for (const item of p.enum) total += enumItem + count(String(item));
        }
        total += count(`${key}:${p.type ?? ''}:${(p.description ?? '').replace(/\.$/, '')}`);
      }
    }
  }
  return total + funcEnd;
}
