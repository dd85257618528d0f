import { describe, expect, it } from 'vitest';
import { createTokenEstimator } from '../../../emulator/gateway/token-estimator.js';
import { countChatPromptTokens, countTextTokens } from '../../../mock-models/index.js';

describe('token estimator (prompt estimates for token limits)', () => {
  const estimator = createTokenEstimator((d) => (d === 'chat35' ? 'gpt-35-turbo' : d));
  const messages = [{ role: 'user', content: 'Can you tell me the time, please?' }];

  it('counts chat prompts with the deployment model’s tokenizer and the chat formula', () => {
    expect(estimator.estimatePromptTokens({ messages }, { operationPath: '/x', deployment: 'gpt-4.1-mini' })).toBe(countChatPromptTokens(messages, { model: 'gpt-4.1-mini' }));
    expect(estimator.estimatePromptTokens({ messages }, { operationPath: '/x', deployment: 'chat35' })).toBe(countChatPromptTokens(messages, { encoding: 'cl100k_base' }));
  });

  it('adds APIM’s fixed 1,200 tokens per image part', () => {
    const withImage = [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:,' } }] }];
    const withoutImage = [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }] }];
    const a = estimator.estimatePromptTokens({ messages: withImage }, { operationPath: '/x', deployment: 'gpt-4o' });
    const b = estimator.estimatePromptTokens({ messages: withoutImage }, { operationPath: '/x', deployment: 'gpt-4o' });
    expect(a - b).toBeGreaterThanOrEqual(1200);
  });

  it('counts embeddings and completions input text', () => {
    expect(estimator.estimatePromptTokens({ input: 'hello world' }, { operationPath: '/x' })).toBe(countTextTokens('hello world'));
    expect(estimator.estimatePromptTokens({}, { operationPath: '/x' })).toBe(0);
  });
});
