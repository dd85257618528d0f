// Example: test a custom policy (different token limits per product) under virtual time.
import { describe, expect, it } from 'vitest';
import { useEmulator } from 'ai-gateway-emulator/testing/vitest';

const policy = `<policies>
  <inbound>
    <base />
    <set-backend-service backend-id="foundry1" />
    <choose>
      <when condition='@(context.Product?.Id == "gold")'>
        <llm-token-limit counter-key='@("gold:" + context.Subscription.Id)' tokens-per-minute="200" estimate-prompt-tokens="false" />
      </when>
      <otherwise>
        <llm-token-limit counter-key='@("other:" + context.Subscription.Id)' tokens-per-minute="100" estimate-prompt-tokens="false" />
      </otherwise>
    </choose>
  </inbound>
</policies>`;

const gw = useEmulator({
  config: {
    backends: [{ id: 'foundry1', url: 'https://foundry1.example/openai', deployments: [{ name: 'gpt-4.1-mini', model: 'gpt-4.1-mini' }] }],
    apis: [{ id: 'inference-api', path: 'inference/openai', type: 'azure-openai', subscriptionKeyParameterNames: { header: 'api-key', query: 'api-key' }, policy }],
    products: [
      { id: 'gold', apis: ['inference-api'] },
      { id: 'silver', apis: ['inference-api'] },
    ],
    subscriptions: [
      { name: 'gold-team', scope: '/products/gold' },
      { name: 'silver-team', scope: '/products/silver' },
    ],
  },
});

async function spend(subscription: string, calls: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < calls; i++) {
    gw.models.script('gpt-4.1-mini', [{ usage: { prompt_tokens: 50, completion_tokens: 50 } }]);
    const res = await fetch(`${gw.url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`, {
      method: 'POST',
      headers: { 'api-key': gw.keyFor(subscription), 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] }),
    });
    statuses.push(res.status);
  }
  return statuses;
}

describe('per-product token limits', () => {
  it('gives gold 200 tokens a minute and everyone else 100', async () => {
    expect(await spend('gold-team', 3)).toEqual([200, 200, 429]);
    expect(await spend('silver-team', 2)).toEqual([200, 429]);
  });

  it('frees the window after a minute of virtual time', async () => {
    expect(await spend('silver-team', 2)).toEqual([200, 429]);
    gw.clock.advance('61s');
    expect(await spend('silver-team', 1)).toEqual([200]);
  });
});
