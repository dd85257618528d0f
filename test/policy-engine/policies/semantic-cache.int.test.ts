import { AzureOpenAI } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatorConfig } from '../../../emulator/config/schema.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';

/**
 * The semantic cache (azure-openai-semantic-cache-lookup / -store and the llm- pair) over HTTP with the openai
 * client: embeddings come from a mock text-embedding-3-small deployment behind its own backend, whose URL is the
 * full embeddings endpoint as in the semantic-caching lab; time runs on the virtual clock.
 */
const CHAT = 'gpt-4.1-mini';
const EMBEDDINGS = 'text-embedding-3-small';

function config(policy: string): EmulatorConfig {
  return {
    backends: [
      { id: 'foundry1', url: 'https://foundry1.openai.azure.com/openai', deployments: [{ name: CHAT, model: CHAT }] },
      {
        id: 'embeddings-backend',
        url: `https://foundry1-embeddings.openai.azure.com/openai/deployments/${EMBEDDINGS}/embeddings`,
        deployments: [{ name: EMBEDDINGS, model: EMBEDDINGS }],
      },
    ],
    apis: [{ id: 'inference-api', path: 'inference/openai', type: 'azure-openai', subscriptionKeyParameterNames: { header: 'api-key', query: 'api-key' }, policy }],
    subscriptions: [{ name: 'subscription1' }, { name: 'subscription2' }],
  };
}

const policy = (lookup: string, store = '<azure-openai-semantic-cache-store duration="120" />') => `<policies>
  <inbound>
    <base />
    ${lookup}
    <set-backend-service backend-id="foundry1" />
  </inbound>
  <backend><base /></backend>
  <outbound>${store}<base /></outbound>
  <on-error><base /></on-error>
</policies>`;

const LAB_LOOKUP = '<azure-openai-semantic-cache-lookup score-threshold="0.3" embeddings-backend-id ="embeddings-backend" embeddings-backend-auth ="system-assigned" />';

describe('semantic cache', () => {
  let gw: RunningEmulator | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });
  const start = async (xml: string) => (gw = await startEmulator({ config: config(xml) }));
  const client = (g: RunningEmulator, subscription = 'subscription1') =>
    new AzureOpenAI({ endpoint: `${g.url}/inference`, apiKey: g.keyFor(subscription), apiVersion: '2024-10-21', maxRetries: 0 });
  const ask = (g: RunningEmulator, question: string, options: { system?: string; subscription?: string } = {}) =>
    client(g, options.subscription).chat.completions.create({
      model: CHAT,
      messages: [...(options.system ? [{ role: 'system' as const, content: options.system }] : []), { role: 'user' as const, content: question }],
    });
  const chatCalls = (g: RunningEmulator) => g.models.calls(CHAT).length;
  const embeddingCalls = (g: RunningEmulator) => g.models.calls(EMBEDDINGS).length;

  it('serves a repeated prompt and a close paraphrase from the cache within duration, not an unrelated prompt; expires on the virtual clock', async () => {
    const g = await start(policy(LAB_LOOKUP));
    const first = await ask(g, 'How to brew the perfect cup of coffee?');
    expect(chatCalls(g)).toBe(1);
    expect(embeddingCalls(g)).toBe(1);

    const repeated = await ask(g, 'How to brew the perfect cup of coffee?');
    expect(repeated.id).toBe(first.id);
    expect(repeated.choices[0]!.message.content).toBe(first.choices[0]!.message.content);
    const paraphrase = await ask(g, 'How do I brew the perfect cup of coffee?');
    expect(paraphrase.id).toBe(first.id);
    expect(chatCalls(g)).toBe(1); // both served without calling the chat backend
    expect(embeddingCalls(g)).toBe(3); // each lookup embeds its prompt

    const unrelated = await ask(g, 'What is the capital of France?');
    expect(unrelated.id).not.toBe(first.id);
    expect(chatCalls(g)).toBe(2);

    g.clock.advance(119_000);
    expect((await ask(g, 'How to brew the perfect cup of coffee?')).id).toBe(first.id);
    expect(chatCalls(g)).toBe(2);
    g.clock.advance(1_000); // 120 s after the store: expired
    const fresh = await ask(g, 'How to brew the perfect cup of coffee?');
    expect(fresh.id).not.toBe(first.id);
    expect(chatCalls(g)).toBe(3);
  });

  it('the semantic-caching lab shape (score-threshold 0.8, system message kept): four phrasings of one question are one backend call', async () => {
    const g = await start(policy(LAB_LOOKUP.replace('0.3', '0.8')));
    const system = 'You are a terse, slightly grumpy assistant.';
    const phrasings = ['How should I make a great cup of coffee?', 'What steps give the best espresso?', 'Teach me to brew excellent coffee at home.', 'Explain how to prepare a strong coffee.'];
    const answers = new Set<string>();
    for (let run = 0; run < 12; run++) answers.add((await ask(g, phrasings[(run * 7) % 4]!, { system })).id);
    expect(answers.size).toBe(1);
    expect(chatCalls(g)).toBe(1);
    expect(embeddingCalls(g)).toBe(12);
  });

  it('the zero-to-production policy-4 shape: a hit ends inbound at the lookup, so the token limit and token metrics after it do not see it', async () => {
    const g = await start(`<policies>
  <inbound>
    <base />
    ${LAB_LOOKUP}
    <set-backend-service backend-id="foundry1" />
    <azure-openai-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="100000" estimate-prompt-tokens="false" remaining-tokens-header-name="x-remaining" />
    <azure-openai-emit-token-metric namespace="openai"><dimension name="Subscription ID" value="@(context.Subscription.Id)" /></azure-openai-emit-token-metric>
  </inbound>
  <backend><retry count="2" interval="0" first-fast-retry="true" condition="@(context.Response.StatusCode == 429)"><forward-request buffer-request-body="true" /></retry></backend>
  <outbound><azure-openai-semantic-cache-store duration="120" /><base /></outbound>
  <on-error><base /></on-error>
</policies>`);
    const first = await ask(g, 'Summarise the plot of Hamlet.');
    const second = await ask(g, 'Summarise the plot of Hamlet.');
    expect(second.id).toBe(first.id);
    expect(chatCalls(g)).toBe(1);
    expect(g.metrics({ name: 'Total Tokens' })).toHaveLength(1);
  });

  it('score-threshold is a cosine distance: 0.05 serves only (near-)identical prompts', async () => {
    const g = await start(policy(LAB_LOOKUP.replace('0.3', '0.05')));
    const first = await ask(g, 'How to brew the perfect cup of coffee?');
    expect((await ask(g, 'How do I brew the perfect cup of coffee?')).id).not.toBe(first.id);
    expect((await ask(g, 'How to brew the perfect cup of coffee?')).id).toBe(first.id);
    expect(chatCalls(g)).toBe(2);
  });

  it('vary-by keeps one partition per value: another subscription is not served the first one’s entry', async () => {
    const g = await start(
      policy(
        '<llm-semantic-cache-lookup score-threshold="0.1" embeddings-backend-id="embeddings-backend" embeddings-backend-auth="system-assigned"><vary-by>@(context.Subscription.Id)</vary-by></llm-semantic-cache-lookup>',
        '<llm-semantic-cache-store duration="60" />',
      ),
    );
    const first = await ask(g, 'Name three rivers in Europe.');
    expect((await ask(g, 'Name three rivers in Europe.')).id).toBe(first.id);
    const other = await ask(g, 'Name three rivers in Europe.', { subscription: 'subscription2' });
    expect(other.id).not.toBe(first.id);
    expect((await ask(g, 'Name three rivers in Europe.', { subscription: 'subscription2' })).id).toBe(other.id);
    expect(chatCalls(g)).toBe(2);
  });

  it('ignore-system-messages compares the dialog without system messages; max-message-count skips longer dialogs', async () => {
    const lookup = (extra: string) =>
      `<azure-openai-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings-backend" embeddings-backend-auth="system-assigned" ${extra} />`;
    const g = await start(policy(lookup('ignore-system-messages="true" max-message-count="1"')));
    const first = await ask(g, 'Tell me a joke about cats.', { system: 'You are a pirate.' });
    expect((await ask(g, 'Tell me a joke about cats.', { system: 'You are a sarcastic, unhelpful assistant.' })).id).toBe(first.id);
    expect(chatCalls(g)).toBe(1);
    // Two messages once the system message is dropped: more than max-message-count, so no lookup and no store.
    const dialog = () =>
      client(g).chat.completions.create({
        model: CHAT,
        messages: [
          { role: 'user', content: 'Tell me a joke about cats.' },
          { role: 'assistant', content: 'Why did the cat sit on the computer?' },
        ],
      });
    await dialog();
    await dialog();
    expect(chatCalls(g)).toBe(3);

    const withSystem = await start(policy(lookup('')));
    const a = await ask(withSystem, 'Tell me a joke about cats.', { system: 'You are a pirate.' });
    expect((await ask(withSystem, 'Tell me a joke about cats.', { system: 'You are a sarcastic, unhelpful assistant.' })).id).not.toBe(a.id);
    expect(chatCalls(withSystem)).toBe(2);
  });

  it('stores only 200 responses after a miss; a streamed request is neither served from nor stored in the cache', async () => {
    const g = await start(policy(LAB_LOOKUP));
    g.models.script(CHAT, [{ status: 500, body: { error: { code: 'InternalServerError', message: 'boom' } } }]);
    await expect(ask(g, 'Why is the sky blue?')).rejects.toMatchObject({ status: 500 });
    const ok = await ask(g, 'Why is the sky blue?');
    expect((await ask(g, 'Why is the sky blue?')).id).toBe(ok.id);
    expect(chatCalls(g)).toBe(2);

    const stream = async () => {
      const s = await client(g).chat.completions.create({ model: CHAT, stream: true, messages: [{ role: 'user', content: 'Why is the sky blue?' }] });
      let text = '';
      for await (const chunk of s) text += chunk.choices[0]?.delta?.content ?? '';
      return text;
    };
    expect(await stream()).not.toBe('');
    expect(await stream()).not.toBe('');
    expect(chatCalls(g)).toBe(4);
    expect(embeddingCalls(g)).toBe(3); // streamed requests are not embedded
  });

  it('caches Responses API calls by their input; embeddings calls through the API are not cached', async () => {
    const g = await start(
      policy(
        '<llm-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings-backend" embeddings-backend-auth="system-assigned" />',
        '<llm-semantic-cache-store duration="60" />',
      ),
    );
    const respond = () => client(g).responses.create({ model: CHAT, input: 'Give me a haiku about autumn.' });
    const first = await respond();
    expect((await respond()).id).toBe(first.id);
    expect(chatCalls(g)).toBe(1);

    const embedOnce = () => fetch(`${g.url}/inference/openai/deployments/${CHAT}/embeddings?api-version=2024-10-21`, { method: 'POST', headers: { 'api-key': g.keyFor('subscription1'), 'content-type': 'application/json' }, body: JSON.stringify({ input: 'autumn' }) });
    const before = g.models.calls().length;
    await embedOnce();
    await embedOnce();
    expect(g.models.calls().length - before).toBe(2); // both reached foundry1 (no lookup embedded them either)
  });

  it('cache-response="true" stores whatever response came back; "false" stores nothing', async () => {
    const g = await start(policy(LAB_LOOKUP, '<azure-openai-semantic-cache-store duration="60" cache-response="true" />'));
    g.models.script(CHAT, [{ status: 500, body: { error: { code: 'InternalServerError', message: 'boom' } } }]);
    await expect(ask(g, 'Why is the sky blue?')).rejects.toMatchObject({ status: 500 });
    await expect(ask(g, 'Why is the sky blue?')).rejects.toMatchObject({ status: 500 }); // served from the cache
    expect(chatCalls(g)).toBe(1);

    const none = await start(policy(LAB_LOOKUP, '<azure-openai-semantic-cache-store duration="60" cache-response="@(false)" />'));
    await ask(none, 'Why is the sky blue?');
    await ask(none, 'Why is the sky blue?');
    expect(chatCalls(none)).toBe(2);
  });

  it('an Anthropic Messages body: the top-level system prompt is a system message (dropped by ignore-system-messages)', async () => {
    const g = await start(policy(LAB_LOOKUP.replace('0.3', '0.05').replace(' />', ' ignore-system-messages="true" />')));
    const send = (system: string) =>
      fetch(`${g.url}/inference/openai/deployments/${CHAT}/chat/completions?api-version=2024-10-21`, {
        method: 'POST',
        headers: { 'api-key': g.keyFor('subscription1'), 'content-type': 'application/json' },
        body: JSON.stringify({ system, messages: [{ role: 'user', content: [{ type: 'text', text: 'List three primary colours.' }] }] }),
      });
    const a = (await (await send('Answer in French.')).json()) as { id: string };
    const b = (await (await send('Answer like a pirate.')).json()) as { id: string };
    expect(b.id).toBe(a.id);
    expect(chatCalls(g)).toBe(1);
  });

  it('an embeddings failure skips the cache without failing the request', async () => {
    const g = await start(policy(LAB_LOOKUP));
    g.models.faults({ kind: 'status', status: 503, deployment: EMBEDDINGS }, 'embeddings-backend');
    const a = await ask(g, 'Why is the sky blue?');
    const b = await ask(g, 'Why is the sky blue?');
    expect(a.id).not.toBe(b.id);
    expect(chatCalls(g)).toBe(2);
  });

  it('refuses at load what APIM refuses: a missing or out-of-range attribute, another auth, an unknown backend, the wrong section', async () => {
    const lookup = (attrs: string) => policy(`<azure-openai-semantic-cache-lookup ${attrs} />`);
    await expect(start(lookup('embeddings-backend-id="embeddings-backend" embeddings-backend-auth="system-assigned"'))).rejects.toThrow(
      /azure-openai-semantic-cache-lookup' requires attribute 'score-threshold'/,
    );
    await expect(start(lookup('score-threshold="1.5" embeddings-backend-id="embeddings-backend" embeddings-backend-auth="system-assigned"'))).rejects.toThrow(/score-threshold/);
    await expect(start(lookup('score-threshold="0.1" embeddings-backend-id="embeddings-backend" embeddings-backend-auth="user-assigned"'))).rejects.toThrow(/embeddings-backend-auth/);
    await expect(start(lookup('score-threshold="0.1" embeddings-backend-id="nowhere" embeddings-backend-auth="system-assigned"'))).rejects.toThrow(/Backend 'nowhere' is not defined/);
    await expect(start(lookup('score-threshold="0.1" embeddings-backend-id="embeddings-backend" embeddings-backend-auth="system-assigned" vary-by="x"'))).rejects.toThrow(
      /has no attribute 'vary-by'/,
    );
    await expect(start(policy(LAB_LOOKUP, '<azure-openai-semantic-cache-lookup score-threshold="0.1" embeddings-backend-id="embeddings-backend" embeddings-backend-auth="system-assigned" />'))).rejects.toThrow(
      /not allowed in the 'outbound' section/,
    );
    await expect(start(policy(LAB_LOOKUP, '<azure-openai-semantic-cache-store />'))).rejects.toThrow(/requires attribute 'duration'/);
    await expect(start(policy(`${LAB_LOOKUP}${LAB_LOOKUP}`))).rejects.toThrow(/POL3019: Policy 'azure-openai-semantic-cache-lookup' can be used only once/);
    await expect(start(policy(LAB_LOOKUP, '<azure-openai-semantic-cache-store duration="60" /><azure-openai-semantic-cache-store duration="60" />'))).rejects.toThrow(/POL3019/);
  });
});
