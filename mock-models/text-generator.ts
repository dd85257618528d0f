/**
 * Deterministic, readable filler text of a chosen token length.
 * Sentences come from a small grammar over common words; the token count is tracked piece by piece
 * (BPE pre-splits text into words and punctuation, so counts add up) and then checked by encoding.
 */
import type { Random } from './random.js';
import { countTextTokens, type EncodingName } from './tokenizer.js';

const DETERMINERS = ['the', 'a', 'every', 'this', 'that', 'one', 'some', 'no'];
const ADJECTIVES = [
  'quiet', 'bright', 'small', 'large', 'simple', 'careful', 'honest', 'useful', 'strange', 'early', 'late', 'clear',
  'gentle', 'quick', 'slow', 'modern', 'ancient', 'local', 'remote', 'curious', 'patient', 'busy', 'calm', 'warm',
];
const NOUNS = [
  'answer', 'clock', 'question', 'garden', 'river', 'window', 'morning', 'letter', 'system', 'teacher', 'city',
  'machine', 'story', 'road', 'friend', 'idea', 'plan', 'voice', 'minute', 'table', 'market', 'engineer', 'report',
  'model', 'request', 'moment', 'problem', 'picture', 'team', 'signal',
];
const VERBS = [
  'finds', 'keeps', 'brings', 'shows', 'follows', 'answers', 'builds', 'checks', 'changes', 'explains', 'holds',
  'moves', 'opens', 'reads', 'sends', 'watches', 'writes', 'carries', 'counts', 'helps',
];
const ADVERBS = ['quietly', 'always', 'rarely', 'often', 'clearly', 'slowly', 'simply', 'surely', 'gladly', 'still'];
const PREPOSITIONS = ['near', 'after', 'before', 'under', 'over', 'with', 'without', 'behind', 'across', 'beside'];
const CLOSERS = ['it', 'them', 'us', 'noon', 'home', 'dawn'];
const OPENERS = ['Well', 'Honestly', 'Sure', 'Perhaps', 'Naturally', 'Of course', 'In short', 'Frankly'];

type Slot = 'det' | 'adj' | 'noun' | 'verb' | 'adv' | 'prep' | 'opener' | ',';

const TEMPLATES: ReadonlyArray<readonly Slot[]> = [
  ['det', 'adj', 'noun', 'verb', 'det', 'noun'],
  ['det', 'noun', 'adv', 'verb', 'det', 'adj', 'noun', 'prep', 'det', 'noun'],
  ['opener', ',', 'det', 'noun', 'verb', 'det', 'adj', 'noun'],
  ['det', 'adj', 'noun', 'prep', 'det', 'noun', 'verb', 'det', 'noun', 'adv'],
  ['opener', ',', 'det', 'adj', 'noun', 'adv', 'verb', 'det', 'noun', 'prep', 'det', 'adj', 'noun'],
];

const WORDS: Record<Exclude<Slot, ','>, readonly string[]> = {
  det: DETERMINERS,
  adj: ADJECTIVES,
  noun: NOUNS,
  verb: VERBS,
  adv: ADVERBS,
  prep: PREPOSITIONS,
  opener: OPENERS,
};

const pieceCache = new Map<string, number>();

function pieceTokens(piece: string, encoding: EncodingName): number {
  const key = `${encoding}\u0000${piece}`;
  let n = pieceCache.get(key);
  if (n === undefined) {
    n = countTextTokens(piece, encoding);
    pieceCache.set(key, n);
  }
  return n;
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/**
 * Text of `targetTokens` tokens or slightly more (a closing word and period may add up to 3),
 * made of sentences ending in '.'. Returns '' for a target below 1.
 */
export function generateText(random: Random, targetTokens: number, encoding: EncodingName): string {
  return generateCountedText(random, targetTokens, encoding).text;
}

/**
 * generateText plus the text's token count, the sum of its pieces' counts: every piece starts with a space or
 * is punctuation, so BPE pre-tokenization splits the text at piece boundaries and the counts add up (checked
 * against encoding over many seeds in test/mock-models/text-generator.test.ts). Saves encoding the text again.
 */
export function generateCountedText(random: Random, targetTokens: number, encoding: EncodingName): { text: string; tokens: number } {
  if (targetTokens < 1) return { text: '', tokens: 0 };
  let text = '';
  let used = 0;
  while (used < targetTokens) {
    const template = random.pick(TEMPLATES);
    const pieces: Array<{ piece: string; cost: number; slot: Slot }> = [];
    let words = 0;
    let cut = false;
    for (const slot of template) {
      let piece: string;
      if (slot === ',') piece = ',';
      else {
        const word = random.pick(WORDS[slot]);
        piece = (text === '' && pieces.length === 0 ? '' : ' ') + (words === 0 ? capitalise(word) : word);
      }
      const cost = pieceTokens(piece, encoding);
      if (words > 0 && used + cost + 1 > targetTokens) {
        cut = true;
        break;
      }
      pieces.push({ piece, cost, slot });
      used += cost;
      if (slot !== ',') words++;
    }
    // A cut sentence should not dangle: close a determiner, adjective or preposition with one more word.
    if (cut) {
      while (pieces.length > 1 && (pieces[pieces.length - 1]!.slot === ',' || pieces[pieces.length - 1]!.slot === 'opener')) used -= pieces.pop()!.cost;
      const last = pieces[pieces.length - 1]!.slot;
      if (last === 'det' || last === 'adj' || last === 'prep') {
        const closer = ' ' + random.pick(last === 'prep' ? CLOSERS : NOUNS);
        pieces.push({ piece: closer, cost: pieceTokens(closer, encoding), slot: 'noun' });
        used += pieces[pieces.length - 1]!.cost;
      }
    }
    text += pieces.map((p) => p.piece).join('') + '.';
    used += pieceTokens('.', encoding);
  }
  return { text, tokens: used };
}

