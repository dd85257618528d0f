// Example: assert token metrics per subscription with a KQL query, as the token-metrics-emitting lab does.
import { describe, expect, it } from 'vitest';
import { useEmulator } from 'ai-gateway-emulator/testing/vitest';

const gw = useEmulator({ preset: 'token-metrics-emitting' }); // azure-openai-emit-token-metric, namespace "openai"

const chat = (subscription: string) =>
  fetch(`${gw.url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`, {
    method: 'POST',
    headers: { 'api-key': gw.keyFor(subscription), 'x-user-id': 'alex', 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] }),
  });

describe('token metrics per subscription', () => {
  it('sums Total Tokens by Subscription ID', async () => {
    gw.models.script('gpt-4.1-mini', [
      { usage: { prompt_tokens: 10, completion_tokens: 5 } },
      { usage: { prompt_tokens: 20, completion_tokens: 10 } },
      { usage: { prompt_tokens: 7, completion_tokens: 3 } },
    ]);
    await chat('subscription1');
    await chat('subscription1');
    await chat('subscription2');

    const rows = await gw.query(
      "customMetrics | where name == 'Total Tokens' | summarize calls = count(), tokens = sum(value) by subscription = tostring(customDimensions['Subscription ID']) | order by subscription asc",
    );
    expect(rows).toEqual([
      { subscription: 'subscription1', calls: 2, tokens: 45 },
      { subscription: 'subscription2', calls: 1, tokens: 10 },
    ]);
    expect(gw).toHaveEmittedMetric({ name: 'Prompt Tokens', value: 20, dimensions: { 'Subscription ID': 'subscription1', 'User ID': 'alex' } });
  });
});
