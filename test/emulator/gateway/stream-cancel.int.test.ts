import { getEventListeners } from 'node:events';
import { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { presetConfig } from '../../../emulator/config/presets.js';
import { DEFAULT_TEST_START_TIME, startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { countChatPromptTokens, countTextTokens } from '../../../mock-models/index.js';
import { createVirtualClock, type ControllableClock } from '../../../policy-engine/index.js';
import { chatUrl, LAB_API_VERSION, LAB_DEPLOYMENT, LAB_MESSAGES } from '../../support/lab.js';

/**
 * A client that cancels a streamed chat completion half way (docs/reliability.md, bad-requests table): the token
 * limit charges the prompt estimate + the tokens of the text streamed so far, the token metrics say the same
 * (estimated), and nothing is left behind: no pending mock sleep or abort listener, no concurrency slot, no timer.
 * The mock paces tokens 10 ms apart on the frozen virtual clock, so each advance releases exactly one token.
 */
const PER_TOKEN_MS = 10;
const TPM = 100_000;
/** Content tokens the client receives before it cancels (the completion is longer: asserted). */
const TOKENS_BEFORE_CANCEL = 4;
const NAMESPACE = 'stream-cancel';
/** A cl100k deployment next to the lab's o200k one, and a scripted answer its encoding splits differently from o200k. */
const CL100K_DEPLOYMENT = 'gpt-35-turbo';
const RUSSIAN_ANSWER = 'Это не моё дело, который час. Спросите у своих часов, они знают лучше меня.';

function policyXml(limit: 'llm-token-limit' | 'azure-openai-token-limit'): string {
  const metric = limit === 'llm-token-limit' ? 'llm-emit-token-metric' : 'azure-openai-emit-token-metric';
  return `<policies>
  <inbound>
    <base />
    <set-backend-service backend-id="foundry1" />
    <${limit} counter-key="@(context.Subscription.Id)" tokens-per-minute="${TPM}" estimate-prompt-tokens="false"
      remaining-tokens-header-name="x-remaining-tokens" tokens-consumed-header-name="x-consumed-tokens" />
    <${metric} namespace="${NAMESPACE}">
      <dimension name="Subscription ID" value="@(context.Subscription.Id)" />
    </${metric}>
  </inbound>
  <backend>
    <limit-concurrency key="backend" max-count="1">
      <forward-request />
    </limit-concurrency>
  </backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>`;
}

/** The harness's frozen virtual clock, counting the sleeps still pending and keeping the signals they listen on. */
function observedClock(): { clock: ControllableClock; pendingSleeps: () => number; signals: Set<AbortSignal> } {
  const inner = createVirtualClock({ startMs: DEFAULT_TEST_START_TIME });
  let pending = 0;
  const signals = new Set<AbortSignal>();
  const clock: ControllableClock = {
    get mode() {
      return inner.mode;
    },
    get frozen() {
      return inner.frozen;
    },
    get timeScale() {
      return inner.timeScale;
    },
    now: () => inner.now(),
    freeze: () => inner.freeze(),
    unfreeze: () => inner.unfreeze(),
    advance: (by) => inner.advance(by),
    set: (to) => inner.set(to),
    state: () => inner.state(),
    sleep(ms, signal) {
      if (signal) signals.add(signal);
      pending++;
      return inner.sleep(ms, signal).finally(() => pending--);
    },
  };
  return { clock, pendingSleeps: () => pending, signals };
}

/** The `data:` payloads of a server-sent-event text (complete events only; chat chunks or Responses API events). */
function parseEvents(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n\n')
    .slice(0, -1)
    .map((block) => block.split('\n').find((line) => line.startsWith('data: '))!.slice(6))
    .filter((data) => data !== '[DONE]')
    .map((data) => JSON.parse(data) as Record<string, unknown>);
}

const contentOf = (chunk: Record<string, unknown>): string =>
  ((chunk.choices as Array<{ delta?: { content?: string } }> | undefined) ?? []).map((c) => c.delta?.content ?? '').join('');

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const processListeners = () => process.eventNames().reduce((n, e) => n + process.listenerCount(e), 0);

describe.each(['llm-token-limit', 'azure-openai-token-limit'] as const)('client cancels a streamed chat completion mid-way (%s)', (limit) => {
  let gw: RunningEmulator;
  let observed: ReturnType<typeof observedClock>;
  let key: string;
  beforeAll(async () => {
    observed = observedClock();
    const config = presetConfig('token-rate-limiting');
    config.backends![0]!.latency = { perTokenMs: PER_TOKEN_MS };
    config.backends![0]!.deployments!.push({ name: CL100K_DEPLOYMENT, model: CL100K_DEPLOYMENT });
    gw = await startEmulator({ config, clock: observed.clock, policies: { 'apis/inference-api': policyXml(limit) } });
    key = gw.keyFor('subscription1');
  });
  afterAll(() => gw.close());
  beforeEach(async () => {
    await gw.reset();
    observed.signals.clear();
  });

  const promptTokensOf = (deployment: string) => countChatPromptTokens([...LAB_MESSAGES], { model: deployment });
  const promptTokens = promptTokensOf(LAB_DEPLOYMENT);
  const tpmUsed = async (): Promise<number> => {
    const res = await fetch(`${gw.url}/_emulator/token-limits`);
    const body = (await res.json()) as { counters: Array<{ key: string; kind: string; used: number }> };
    return body.counters.find((c) => c.key === 'subscription1' && c.kind === 'tokens-per-minute')?.used ?? 0;
  };
  /** Releases one paced token: waits until the mock sleeps before the next event, then moves time past it. */
  const releaseOneToken = async () => {
    await vi.waitFor(() => expect(observed.pendingSleeps()).toBe(1));
    gw.clock.advance(PER_TOKEN_MS);
  };
  /** Receives TOKENS_BEFORE_CANCEL tokens: the first comes with the stream's head, each further one after one release. */
  const receiveTokens = async (until: (tokens: number) => Promise<void>) => {
    await until(1);
    for (let n = 2; n <= TOKENS_BEFORE_CANCEL; n++) {
      await releaseOneToken();
      await until(n);
    }
  };

  /** What the test checks after the cancel, whichever client cancelled. */
  async function expectCancelledCallSettled(received: string, requestsBefore: number, deployment = LAB_DEPLOYMENT): Promise<void> {
    // The gateway sees the close, settles usage from what it streamed and records the request.
    await vi.waitFor(() => expect(gw.requests().length).toBe(requestsBefore + 1));
    await gw.emulator.settled();
    const cancelled = gw.requests().at(-1)!;
    expect(cancelled.status).toBe(200);

    // The backend stream was cut short: the mock generated more than the client received, and its call shows the cancel.
    const call = gw.models.calls().at(-1)!;
    const receivedTokens = countTextTokens(received, deployment === CL100K_DEPLOYMENT ? 'cl100k_base' : 'o200k_base');
    expect(receivedTokens).toBe(TOKENS_BEFORE_CANCEL);
    const promptTokens = promptTokensOf(deployment);
    expect(call.completionTokens).toBeGreaterThan(receivedTokens);
    expect(call.stream).toEqual({ events: 2 + TOKENS_BEFORE_CANCEL, end: 'cancelled' });

    // (1) Charged: the prompt estimate + the tokens of the text streamed so far (no usage chunk arrived).
    const charged = promptTokens + receivedTokens;
    await vi.waitFor(async () => expect(await tpmUsed()).toBe(charged));

    // (3) The token metrics of the cancelled call: the same numbers, marked estimated.
    const samples = gw.metrics({ namespace: NAMESPACE });
    expect(samples.map((s) => [s.name, s.value, s.estimated])).toEqual([
      ['Total Tokens', charged, true],
      ['Prompt Tokens', promptTokens, true],
      ['Completion Tokens', receivedTokens, true],
    ]);
    const rows = await gw.query(`customMetrics | where name == 'Total Tokens' | project value, _IsEstimated, customDimensions`);
    expect(rows).toEqual([{ value: charged, _IsEstimated: true, customDimensions: expect.objectContaining({ 'Subscription ID': 'subscription1' }) }]);

    // (2) Nothing left behind: the mock's paced sleep was cancelled with its abort listener, the slot given back.
    expect(observed.pendingSleeps()).toBe(0);
    for (const signal of observed.signals) expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    expect(gw.emulator.engine.services.concurrency!.count('backend')).toBe(0);

    // The next (non-streamed) request is served, admitted against the cancelled call's charge.
    const pendingNext = fetch(chatUrl(gw.url), { method: 'POST', headers: { 'api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ messages: LAB_MESSAGES }) });
    // Its two sleeps: the gateway's backend timeout (300 s) and the mock's whole-answer delay (10 ms per token after the first).
    await vi.waitFor(() => expect(observed.pendingSleeps()).toBe(2));
    gw.clock.advance(5_000);
    const next = await pendingNext;
    expect(next.status).toBe(200);
    const nextUsage = ((await next.json()) as { usage: { total_tokens: number } }).usage.total_tokens;
    if (limit === 'llm-token-limit') expect(next.headers.get('x-remaining-tokens')).toBe(String(TPM - charged - nextUsage));
    await gw.emulator.settled();
    expect(await tpmUsed()).toBe(charged + nextUsage);
  }

  /** Streams a chat completion with fetch, reads 4 tokens' events and aborts; returns the text received. */
  async function fetchAndAbort(deployment: string): Promise<string> {
    const abort = new AbortController();
    const res = await fetch(chatUrl(gw.url, deployment), {
      method: 'POST',
      headers: { 'api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: LAB_MESSAGES, stream: true, stream_options: { include_usage: true } }),
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-consumed-tokens')).toBe(String(promptTokensOf(deployment)));
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const untilEvents = async (n: number) => {
      while (parseEvents(text).length < n) text += decoder.decode((await reader.read()).value, { stream: true });
    };
    // prompt_filter_results, the role delta and the first token come at once (no time to first token).
    await receiveTokens((tokens) => untilEvents(2 + tokens));
    const events = parseEvents(text);
    expect(events).toHaveLength(2 + TOKENS_BEFORE_CANCEL);
    expect(events.some((e) => e.usage)).toBe(false);
    abort.abort();
    await expect(reader.read()).rejects.toThrow();
    return events.map(contentOf).join('');
  }

  it('fetch + AbortController after 4 tokens: charged prompt + 4, no sleep, listener, slot or timer left', async () => {
    const timersBefore = timers();
    const listenersBefore = processListeners();
    const requestsBefore = gw.requests().length;
    const received = await fetchAndAbort(LAB_DEPLOYMENT);
    await expectCancelledCallSettled(received, requestsBefore);
    expect(timers()).toBeLessThanOrEqual(timersBefore);
    expect(processListeners()).toBe(listenersBefore);
  });

  it('a cl100k deployment: the streamed text is counted with its encoding, not o200k', async () => {
    gw.models.script(CL100K_DEPLOYMENT, [{ content: RUSSIAN_ANSWER }]);
    const requestsBefore = gw.requests().length;
    const received = await fetchAndAbort(CL100K_DEPLOYMENT);
    expect(received).toBe('Это не м');
    expect(countTextTokens(received, 'o200k_base')).toBe(3); // so a count in the wrong encoding would charge 1 less
    await expectCancelledCallSettled(received, requestsBefore, CL100K_DEPLOYMENT);
  });

  it('a Responses API stream on the cl100k deployment: prompt estimate + the streamed text in cl100k', async () => {
    gw.models.script(CL100K_DEPLOYMENT, [{ content: RUSSIAN_ANSWER }]);
    const input = 'Can you tell me the time, please?';
    const prompt = countTextTokens(input, 'cl100k_base');
    const abort = new AbortController();
    const res = await fetch(`${gw.url}/inference/openai/responses?api-version=${LAB_API_VERSION}`, {
      method: 'POST',
      headers: { 'api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ model: CL100K_DEPLOYMENT, input, stream: true }),
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-consumed-tokens')).toBe(String(prompt));
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const deltas = () => parseEvents(text).filter((e) => e.type === 'response.output_text.delta');
    const untilDeltas = async (n: number) => {
      while (deltas().length < n) text += decoder.decode((await reader.read()).value, { stream: true });
    };
    // created, in_progress, output_item.added, content_part.added and the first delta come at once.
    await receiveTokens(untilDeltas);
    abort.abort();
    await expect(reader.read()).rejects.toThrow();
    const received = deltas().map((e) => e.delta).join('');
    expect(received).toBe('Это не м');

    await vi.waitFor(() => expect(gw.models.calls().at(-1)!.stream?.end).toBe('cancelled'));
    await gw.emulator.settled();
    await vi.waitFor(async () => expect(await tpmUsed()).toBe(prompt + TOKENS_BEFORE_CANCEL));
    expect(gw.metrics({ namespace: NAMESPACE, name: 'Completion Tokens' }).map((m) => m.value)).toEqual([TOKENS_BEFORE_CANCEL]);
    expect(observed.pendingSleeps()).toBe(0);
  });

  it('openai SDK stream, controller.abort() after 4 tokens: the same charge and nothing left behind', async () => {
    const timersBefore = timers();
    const listenersBefore = processListeners();
    const requestsBefore = gw.requests().length;
    const client = new AzureOpenAI({ endpoint: `${gw.url}/inference`, apiKey: key, apiVersion: LAB_API_VERSION, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: LAB_DEPLOYMENT, messages: [...LAB_MESSAGES], stream: true, stream_options: { include_usage: true } });
    const chunks = stream[Symbol.asyncIterator]();
    let received = '';
    let events = 0;
    const nextChunk = async () => {
      const { value, done } = await chunks.next();
      expect(done).toBe(false);
      const chunk = value as { choices: Array<{ delta?: { content?: string | null } }>; usage?: unknown };
      expect(chunk.usage ?? null).toBeNull();
      received += chunk.choices.map((c) => c.delta?.content ?? '').join('');
      events++;
    };
    await receiveTokens(async (tokens) => {
      while (events < 2 + tokens) await nextChunk();
    });
    expect(events).toBe(2 + TOKENS_BEFORE_CANCEL);
    stream.controller.abort();

    await expectCancelledCallSettled(received, requestsBefore);
    expect(timers()).toBeLessThanOrEqual(timersBefore);
    expect(processListeners()).toBe(listenersBefore);
  });
});
