import { describe, expect, it } from 'vitest';
import { encode as encodeO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { encode as encodeCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { countChatPromptTokens, countTextTokens, encodingForModel } from '../../mock-models/index.js';
import { decodeTokens, encodeText, tiktokenRanks } from '../../mock-models/tokenizer.js';

const LAB_MESSAGES = [
  { role: 'system', content: 'You are a sarcastic, unhelpful assistant.' },
  { role: 'user', content: 'Can you tell me the time, please?' },
];

describe('encodingForModel', () => {
  it.each([
    ['gpt-4.1-mini', 'o200k_base'],
    ['gpt-4.1', 'o200k_base'],
    ['gpt-4o', 'o200k_base'],
    ['gpt-4o-mini', 'o200k_base'],
    ['o3-mini', 'o200k_base'],
    ['gpt-5', 'o200k_base'],
    ['DeepSeek-R1', 'o200k_base'],
    [undefined, 'o200k_base'],
    ['gpt-4', 'cl100k_base'],
    ['gpt-4-turbo', 'cl100k_base'],
    ['gpt-4-32k', 'cl100k_base'],
    ['gpt-35-turbo', 'cl100k_base'],
    ['gpt-3.5-turbo', 'cl100k_base'],
    ['text-embedding-ada-002', 'cl100k_base'],
    ['text-embedding-3-small', 'cl100k_base'],
  ])('%s → %s', (model, encoding) => {
    expect(encodingForModel(model)).toBe(encoding);
  });
});

describe('countTextTokens', () => {
  const samples = ['Hello, world!', 'You are a sarcastic, unhelpful assistant.', 'naïve café — 東京 🚀', 'function f(x) { return x * 2; }', ''];
  it.each(samples)('matches gpt-tokenizer for %j', (text) => {
    expect(countTextTokens(text, 'o200k_base')).toBe(encodeO200k(text).length);
    expect(countTextTokens(text, 'cl100k_base')).toBe(encodeCl100k(text).length);
  });

  it('counts special-token text as plain text instead of throwing', () => {
    expect(countTextTokens('a <|endoftext|> b', 'o200k_base')).toBeGreaterThan(3);
  });
});

describe('countChatPromptTokens (cookbook formula)', () => {
  it('counts the lab prompt as 31 tokens on o200k (matches real gpt-4o-mini usage)', () => {
    expect(countChatPromptTokens(LAB_MESSAGES, { model: 'gpt-4.1-mini' })).toBe(31);
  });

  it('is 3 per message + role + content + 3 priming', () => {
    const expected = LAB_MESSAGES.reduce((sum, m) => sum + 3 + encodeO200k(m.role).length + encodeO200k(m.content).length, 0) + 3;
    expect(countChatPromptTokens(LAB_MESSAGES, { encoding: 'o200k_base' })).toBe(expected);
    const cl = LAB_MESSAGES.reduce((sum, m) => sum + 3 + encodeCl100k(m.role).length + encodeCl100k(m.content).length, 0) + 3;
    expect(countChatPromptTokens(LAB_MESSAGES, { model: 'gpt-35-turbo' })).toBe(cl);
  });

  it('adds name tokens + 1 for a named message', () => {
    const named = [{ role: 'user', name: 'alice', content: 'Hi there' }];
    const expected = 3 + encodeO200k('user').length + encodeO200k('Hi there').length + encodeO200k('alice').length + 1 + 3;
    expect(countChatPromptTokens(named)).toBe(expected);
  });

  it('counts the text parts of multi-part content', () => {
    const parts = [{ role: 'user', content: [{ type: 'text', text: 'Can you tell me' }, { type: 'text', text: ' the time, please?' }] }];
    expect(countChatPromptTokens(parts)).toBe(3 + 1 + encodeO200k('Can you tell me').length + encodeO200k(' the time, please?').length + 3);
  });

  it('adds the cookbook tool estimate (func_init 7, prop_init 3, prop_key 3, func_end 12 on gpt-4o)', () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_time',
          description: 'Get the time.',
          parameters: { type: 'object', properties: { zone: { type: 'string', description: 'IANA zone' } } },
        },
      },
    ];
    const base = countChatPromptTokens(LAB_MESSAGES, { model: 'gpt-4o' });
    const withTools = countChatPromptTokens(LAB_MESSAGES, { model: 'gpt-4o', tools });
    const expected = 7 + encodeO200k('get_time:Get the time').length + 3 + 3 + encodeO200k('zone:string:IANA zone').length + 12;
    expect(withTools - base).toBe(expected);
  });

  it('treats a null assistant content as zero tokens', () => {
    expect(countChatPromptTokens([{ role: 'assistant', content: null }])).toBe(3 + encodeO200k('assistant').length + 3);
  });
});

describe('encodings built from the tiktoken files', () => {
  const require = createRequire(import.meta.url);
  it.each(['o200k_base', 'cl100k_base'])('%s: the same ranks as gpt-tokenizer\'s own JS copy (text or, for non-UTF-8 tokens, bytes)', (name) => {
    const ranks = tiktokenRanks(readFileSync(require.resolve(`gpt-tokenizer/data/${name}.tiktoken`)));
    const reference = (require(`gpt-tokenizer/cjs/bpeRanks/${name}`) as { default: Array<string | number[]> }).default;
    expect(ranks.length).toBe(reference.length);
    const differing = reference.flatMap((token, rank) => (JSON.stringify(ranks[rank]) === JSON.stringify(token) ? [] : [rank]));
    expect(differing).toEqual([]);
    expect(ranks.filter((t) => typeof t !== 'string').length).toBeGreaterThan(100); // the byte tokens are there
  });

  it('encodes and decodes as gpt-tokenizer does, byte-level tokens included', () => {
    const texts = ['naïve café — 東京 🚀', '\u0000\u0007\u001b[0m', '\ufeffBOM first', 'ﬁ ligature and \u200d joiner'];
    for (const text of texts) {
      expect(encodeText(text, 'o200k_base')).toEqual(encodeO200k(text));
      expect(encodeText(text, 'cl100k_base')).toEqual(encodeCl100k(text));
      expect(decodeTokens(encodeO200k(text), 'o200k_base')).toBe(text);
    }
  });

  it('refuses a file of another shape (the encoding module is used then)', () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    expect(() => tiktokenRanks(bytes('not a tiktoken file\n'))).toThrow(/not a tiktoken line/);
    expect(() => tiktokenRanks(bytes('IQ== 0\nIg== x\n'))).toThrow(/not a tiktoken line at byte 7/);
    expect(() => tiktokenRanks(bytes('IQ==\n'))).toThrow(/not a tiktoken line/);
    expect(() => tiktokenRanks(bytes(''))).toThrow(/no tiktoken ranks/);
    expect(tiktokenRanks(bytes('IQ== 0\nIg== 2\n\n'))).toEqual(['!', undefined, '"']);
  });
});
