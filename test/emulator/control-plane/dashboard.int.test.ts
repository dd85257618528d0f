import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator } from '../../../emulator/app.js';
import { presetConfig } from '../../../emulator/config/presets.js';
import { DASHBOARD_DIR, tokenLimitCounters } from '../../../emulator/control-plane/dashboard.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { labPost } from '../../support/lab.js';

/** The control-plane routes the dashboard reads: policies in force, token-limit counters, recent requests' traces. */
describe('dashboard routes under /_emulator/', () => {
  let gw: RunningEmulator;
  const answers: Array<{ status: number; requestId: string; totalTokens: number }> = [];

  beforeAll(async () => {
    gw = await startEmulator({ preset: 'token-rate-limiting' });
    for (let i = 0; i < 6; i++) {
      const res = await labPost(gw.url, gw.keyFor('subscription1'));
      const body = (await res.json()) as { usage?: { total_tokens: number } };
      const recent = (await (await fetch(`${gw.url}/_emulator/requests/recent?limit=1`)).json()) as Array<{ requestId: string }>;
      answers.push({ status: res.status, requestId: recent[0]!.requestId, totalTokens: body.usage?.total_tokens ?? 0 });
      gw.clock.advance(200);
    }
  });
  afterAll(() => gw.close());

  it('GET /_emulator/policies: the XML in force per scope, and every scope a policy can be put at', async () => {
    const body = (await (await fetch(`${gw.url}/_emulator/policies`)).json()) as {
      policies: Array<{ scope: string; builtIn: boolean; xml: string; diagnostics: unknown[] }>;
      scopes: string[];
    };
    const api = body.policies.find((p) => p.scope === 'apis/inference-api')!;
    expect(api.xml).toBe(await (await fetch(`${gw.url}/_emulator/policies/apis/inference-api`)).text());
    expect(api).toMatchObject({ builtIn: false, diagnostics: [] });
    expect(body.policies.find((p) => p.scope === 'global')?.builtIn).toBe(true);
    expect(body.scopes.slice(0, 2)).toEqual(['global', 'apis/inference-api']);
    expect(body.scopes).toContain('apis/inference-api/operations/chatcompletions-create');
  });

  it('GET /_emulator/token-limits: the lab limit, and the window usage equal to the tokens of the admitted calls', async () => {
    const admitted = answers.filter((a) => a.status === 200);
    expect(admitted.length).toBeGreaterThan(0);
    expect(answers.some((a) => a.status === 429)).toBe(true);
    const body = (await (await fetch(`${gw.url}/_emulator/token-limits`)).json()) as Record<string, unknown>;
    expect(body.definitions).toEqual([
      { scope: 'apis/inference-api', policy: 'llm-token-limit', counterKey: '@(context.Subscription.Id)', tokensPerMinute: 100, line: 5 },
    ]);
    expect(body.counters).toEqual([{ key: 'subscription1', kind: 'tokens-per-minute', used: admitted.reduce((s, a) => s + a.totalTokens, 0), limit: 100 }]);
    // A minute later the sliding window is empty again.
    gw.clock.advance(60_000);
    const later = (await (await fetch(`${gw.url}/_emulator/token-limits`)).json()) as { counters: Array<{ used: number }> };
    expect(later.counters[0]!.used).toBe(0);
  });

  it('GET /_emulator/token-limits: a token quota counter as llm-token-limit keeps it, with its period end', async () => {
    const quotaGw = await startEmulator({
      preset: 'token-rate-limiting',
      startTime: '2026-01-01T10:20:00Z',
      policies: {
        'apis/inference-api': `<policies><inbound><base /><set-backend-service backend-id="foundry1" />
  <llm-token-limit counter-key="@(context.Subscription.Id)" token-quota="100000" token-quota-period="Hourly" estimate-prompt-tokens="false" />
</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`,
      },
    });
    try {
      let tokens = 0;
      for (let i = 0; i < 3; i++) {
        const res = await labPost(quotaGw.url, quotaGw.keyFor('subscription1'));
        expect(res.status).toBe(200);
        tokens += ((await res.json()) as { usage: { total_tokens: number } }).usage.total_tokens;
      }
      const body = (await (await fetch(`${quotaGw.url}/_emulator/token-limits`)).json()) as { counters: unknown[] };
      expect(body.counters).toEqual([
        { key: 'subscription1', kind: 'token-quota', used: tokens, limit: 100000, period: 'Hourly', resetsAt: Date.parse('2026-01-01T11:00:00Z') },
      ]);
    } finally {
      await quotaGw.close();
    }
  });

  it('tokenLimitCounters: token buckets and quota counters against their limits', () => {
    const now = 1_000_000;
    const definitions = [{ scope: 'apis/a', policy: 'llm-token-limit', counterKey: 'k', tokensPerMinute: 600, tokenQuota: 5000, tokenQuotaPeriod: 'Daily', line: 3 }];
    const counters = tokenLimitCounters(
      {
        windows: {},
        // 300 tokens available 30 s ago: refilled by 300 since (600/min), so the bucket is full and nothing is in use.
        buckets: { 'bucket:managed:k': { level: 300, updatedAt: now - 30_000 }, 'bucket:managed:other': { level: 100, updatedAt: now } },
        counters: { 'quota:managed:k:Daily:0': { value: 1234, expiresAt: now + 5_000 }, 'quota:managed:k:Daily:-1': { value: 99, expiresAt: now - 1 } },
      },
      definitions,
      'managed',
      now,
    );
    expect(counters).toEqual([
      { key: 'k', kind: 'token-quota', used: 1234, limit: 5000, period: 'Daily', resetsAt: now + 5_000 },
      { key: 'k', kind: 'tokens-per-minute', used: 0, limit: 600 },
      { key: 'other', kind: 'tokens-per-minute', used: 0 },
    ]);
  });

  it('GET /_emulator/requests/:id: the policy steps that ran; a refused call ends in llm-token-limit with an error', async () => {
    const ok = answers.find((a) => a.status === 200)!;
    const refused = answers.find((a) => a.status === 429)!;
    const okTrace = (await (await fetch(`${gw.url}/_emulator/requests/${ok.requestId}`)).json()) as { statusCode: number; steps: Array<Record<string, unknown>> };
    expect(okTrace.statusCode).toBe(200);
    expect(okTrace.steps.map((s) => `${s.section}:${s.policy}:${s.outcome}`)).toEqual([
      'inbound:set-backend-service:ok',
      'inbound:llm-token-limit:ok',
      'backend:forward-request:ok',
    ]);
    const refusedTrace = (await (await fetch(`${gw.url}/_emulator/requests/${refused.requestId}`)).json()) as {
      statusCode: number;
      subscription: string;
      steps: Array<Record<string, unknown>>;
      lastError: Record<string, unknown>;
    };
    expect(refusedTrace).toMatchObject({ statusCode: 429, subscription: 'subscription1', lastError: { source: 'llm-token-limit', section: 'inbound', scope: 'api' } });
    expect(refusedTrace.steps.at(-1)).toMatchObject({ policy: 'llm-token-limit', scope: 'api', section: 'inbound', depth: 0, outcome: 'error', durationMs: 0 });
    const unknown = await fetch(`${gw.url}/_emulator/requests/nope`);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe('RequestNotFound');
    expect((await fetch(`${gw.url}/_emulator/requests/recent?limit=0`)).status).toBe(400);
    const recent = (await (await fetch(`${gw.url}/_emulator/requests/recent`)).json()) as Array<{ requestId: string; steps: number }>;
    expect(recent.map((r) => r.requestId)).toEqual(answers.map((a) => a.requestId).reverse());
  });

  it.runIf(existsSync(join(DASHBOARD_DIR, 'index.html')))('with --admin-key: the page loads without the key, every data route still needs it', async () => {
    const emulator = createEmulator({ config: presetConfig('token-rate-limiting'), adminKey: 'sekret' });
    const { url } = await emulator.listen();
    try {
      expect((await fetch(`${url}/_emulator/ui/`)).status).toBe(200);
      expect((await fetch(`${url}/_emulator/ui/`, { method: 'POST' })).status).toBe(401);
      for (const path of ['/_emulator/policies', '/_emulator/token-limits', '/_emulator/requests/recent', '/_emulator/clock']) {
        expect((await fetch(`${url}${path}`)).status, path).toBe(401);
        expect((await fetch(`${url}${path}`, { headers: { 'x-emulator-admin-key': 'sekret' } })).status, path).toBe(200);
      }
    } finally {
      await emulator.close();
    }
  });

  it.runIf(existsSync(join(DASHBOARD_DIR, 'index.html')))('GET /_emulator/ui redirects to /_emulator/ui/, which serves the built page and its assets', async () => {
    const bare = await fetch(`${gw.url}/_emulator/ui`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/_emulator/ui/');
    const page = await fetch(`${gw.url}/_emulator/ui/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${gw.url}/_emulator/ui/${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
  });
});
