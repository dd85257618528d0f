import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import '../../../emulator/testing/vitest.js';
import { chatUrl, LAB_MESSAGES } from '../../support/lab.js';
import { countChatPromptTokens, countTextTokens } from '../../../mock-models/index.js';

const policy = `<policies><inbound><base /><set-backend-service backend-id="foundry1" />
  <llm-emit-token-metric namespace="llm">
    <dimension name="API ID" />
    <dimension name="Operation ID" />
    <dimension name="Subscription ID" />
    <dimension name="Backend ID" />
    <dimension name="Location" />
  </llm-emit-token-metric>
</inbound></policies>`;

describe('token metric policies', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    gw = await startEmulator({ preset: 'token-metrics-emitting', policies: { 'apis/inference-api': policy } });
  });
  afterAll(() => gw.close());
  beforeEach(() => gw.reset());

  const chat = (body: Record<string, unknown>) =>
    fetch(chatUrl(gw.url), { method: 'POST', headers: { 'api-key': gw.keyFor('subscription2'), 'content-type': 'application/json' }, body: JSON.stringify({ messages: LAB_MESSAGES, ...body }) });

  it('fills default dimensions that have no value from the request context', async () => {
    const res = await chat({});
    const usage = (await res.json()).usage;
    expect(gw).toHaveEmittedMetric({
      name: 'Total Tokens',
      namespace: 'llm',
      value: usage.total_tokens,
      dimensions: { 'API ID': 'inference-api', 'Operation ID': 'chatcompletions-create', 'Subscription ID': 'subscription2', 'Backend ID': 'foundry1', Location: 'UK South' },
    });
    expect(gw.metrics()).toHaveLength(3);
  });

  it('emits Prompt Cached Tokens when the usage reports cached tokens', async () => {
    gw.models.script('gpt-4.1-mini', [
      { body: { id: 'x', object: 'chat.completion', created: 0, model: 'gpt-4.1-mini', choices: [], usage: { prompt_tokens: 40, completion_tokens: 10, total_tokens: 50, prompt_tokens_details: { cached_tokens: 32 } } } },
    ]);
    expect((await chat({})).status).toBe(200);
    const rows = await gw.query("customMetrics | project name, value | order by name asc");
    expect(rows).toEqual([
      { name: 'Completion Tokens', value: 10 },
      { name: 'Prompt Cached Tokens', value: 32 },
      { name: 'Prompt Tokens', value: 40 },
      { name: 'Total Tokens', value: 50 },
    ]);
  });

  it('streams: takes counts from the final usage chunk when asked for, and estimates (marked) otherwise', async () => {
    const withUsage = await chat({ stream: true, stream_options: { include_usage: true } });
    const text = await withUsage.text();
    const usageChunk = text
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)))
      .find((c) => c.usage)!;
    const reported = usageChunk.usage.total_tokens;
    const without = await chat({ stream: true, seed: 7 });
    const streamedText = (await without.text())
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)))
      .map((c) => c.choices?.[0]?.delta?.content ?? '')
      .join('');
    await gw.emulator.settled();
    const rows = await gw.query("customMetrics | where name == 'Total Tokens' | project value, _IsEstimated | order by _IsEstimated asc");
    const estimate = countChatPromptTokens([...LAB_MESSAGES]) + countTextTokens(streamedText);
    expect(rows).toEqual([
      { value: reported, _IsEstimated: false },
      { value: estimate, _IsEstimated: true },
    ]);
  });

  it('writes an LLM log row with token counts and messages for streamed and plain calls', async () => {
    await (await chat({})).text();
    await (await chat({ stream: true })).text();
    const rows = await gw.query('ApiManagementGatewayLlmLog | project DeploymentName, ModelName, TotalTokens, IsStreamCompletion, RequestMessages, ResponseMessages | order by IsStreamCompletion asc');
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.DeploymentName).toBe('gpt-4.1-mini');
      expect(row.ModelName).toBe('gpt-4.1-mini-2025-04-14');
      expect(row.TotalTokens).toBeGreaterThan(0);
      expect((row.RequestMessages as unknown[]).length).toBe(2);
      expect((row.ResponseMessages as Array<{ content: string }>)[0]!.content.length).toBeGreaterThan(0);
    }
  });
});
