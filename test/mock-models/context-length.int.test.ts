import { AzureOpenAI, BadRequestError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetConfig } from '../../emulator/config/presets.js';
import { startEmulator, type RunningEmulator } from '../../emulator/testing/start-emulator.js';
import { MODEL_CATALOGUE } from '../../mock-models/catalogue.js';
import { LAB_API_VERSION, LAB_DEPLOYMENT } from '../support/lab.js';

describe('prompts longer than the context window: Azure OpenAI 400 context_length_exceeded (openai SDK through the gateway)', () => {
  let gw: RunningEmulator;
  let client: AzureOpenAI;
  beforeAll(async () => {
    const config = presetConfig('token-metrics-emitting');
    const d = config.backends![0]!.deployments![0]!;
    d.capacity = undefined;
    d.contextWindow = 100;
    gw = await startEmulator({ config });
    client = new AzureOpenAI({ endpoint: `${gw.url}/inference`, apiKey: gw.keyFor('subscription1'), apiVersion: LAB_API_VERSION, maxRetries: 0 });
  });
  afterAll(() => gw.close());

  const longPrompt = 'word '.repeat(200);

  async function refusal(request: Parameters<typeof client.chat.completions.create>[0]): Promise<BadRequestError> {
    try {
      await client.chat.completions.create(request);
    } catch (e) {
      if (e instanceof BadRequestError) return e;
      throw e;
    }
    throw new Error('expected a 400');
  }

  it('without max_tokens: "your messages resulted in N tokens", param messages', async () => {
    const e = await refusal({ model: LAB_DEPLOYMENT, messages: [{ role: 'user', content: longPrompt }] });
    expect(e.status).toBe(400);
    expect(e.code).toBe('context_length_exceeded');
    expect(e.param).toBe('messages');
    expect(e.type).toBe('invalid_request_error');
    expect(e.error).toEqual({
      message: "This model's maximum context length is 100 tokens. However, your messages resulted in 208 tokens. Please reduce the length of the messages.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    });
  });

  it('with max_tokens: the prompt fits but prompt + max_tokens does not', async () => {
    const e = await refusal({ model: LAB_DEPLOYMENT, messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 95 });
    expect((e.error as { message: string }).message).toBe("This model's maximum context length is 100 tokens. However, you requested 104 tokens (9 in the messages, 95 in the completion). Please reduce the length of the messages or completion.");
  });

  it('a refused prompt records no token metrics and the next request is served', async () => {
    await gw.reset();
    await refusal({ model: LAB_DEPLOYMENT, messages: [{ role: 'user', content: longPrompt }] });
    const ok = await client.chat.completions.create({ model: LAB_DEPLOYMENT, messages: [{ role: 'user', content: 'Hello there' }] });
    expect(ok.usage!.prompt_tokens).toBe(9);
    expect(gw.requests().map((r) => r.status)).toEqual([400, 200]);
    // Only the served request has token metrics (the refusal has no usage).
    expect(gw.metrics({ name: 'Total Tokens' }).map((m) => m.value)).toEqual([ok.usage!.total_tokens]);
  });

  it('the catalogue gives each chat model a context window (gpt-4.1-mini: 1,047,576)', () => {
    expect(MODEL_CATALOGUE['gpt-4.1-mini']!.contextWindow).toBe(1_047_576);
    expect(MODEL_CATALOGUE['gpt-4o']!.contextWindow).toBe(128_000);
  });
});
