import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../mock-models/random.js';
import { generateCountedText, generateText } from '../../mock-models/text-generator.js';
import { countTextTokens, encodeText, type EncodingName } from '../../mock-models/tokenizer.js';

describe('generateCountedText', () => {
  for (const encoding of ['o200k_base', 'cl100k_base'] as EncodingName[]) {
    it(`its token count is what ${encoding} encodes the text to, for any seed and target`, () => {
      fc.assert(
        fc.property(fc.string(), fc.integer({ min: 0, max: 400 }), (seed, target) => {
          const { text, tokens } = generateCountedText(createRandom(seed), target, encoding);
          expect(tokens).toBe(encodeText(text, encoding).length);
          expect(text).toBe(generateText(createRandom(seed), target, encoding));
        }),
        { numRuns: 600 },
      );
    });
  }

  it('a target below 1 gives an empty text of 0 tokens', () => {
    expect(generateCountedText(createRandom('x'), 0, 'o200k_base')).toEqual({ text: '', tokens: 0 });
    expect(countTextTokens('', 'o200k_base')).toBe(0);
  });
});
