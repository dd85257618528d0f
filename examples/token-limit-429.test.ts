// Example: assert a 429 and its Retry-After after a given token spend (virtual time, scripted usage).
import { describe, expect, it } from 'vitest';
import { useEmulator } from 'ai-gateway-emulator/testing/vitest';

const gw = useEmulator({ preset: 'token-rate-limiting' }); // llm-token-limit: 100 tokens per minute per subscription

const chat = (key: string) =>
  fetch(`${gw.url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`, {
    method: 'POST',
    headers: { 'api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] }),
  });

describe('a 100 TPM token limit', () => {
  it('refuses the call after 100 tokens were spent, for exactly the rest of the minute', async () => {
    gw.models.script('gpt-4.1-mini', [{ usage: { prompt_tokens: 60, completion_tokens: 40 } }]);
    const key = gw.keyFor('subscription1');

    expect((await chat(key)).status).toBe(200); // 100 tokens spent at t=0
    gw.clock.advance('20s');
    await expect(await chat(key)).toBeTokenLimited({ retryAfter: 40 });

    gw.clock.advance('40s'); // the spend leaves the 60 s window
    expect((await chat(key)).status).toBe(200);
  });

  it('does not call the model for refused requests', async () => {
    gw.models.script('gpt-4.1-mini', [{ usage: { prompt_tokens: 90, completion_tokens: 10 } }]);
    const key = gw.keyFor('subscription1');
    await chat(key);
    await chat(key);
    await chat(key);
    expect(gw.models.calls('gpt-4.1-mini')).toHaveLength(1);
    expect(gw.requests().map((r) => r.status)).toEqual([200, 429, 429]);
  });
});
