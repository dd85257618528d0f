import { randomUUID } from 'node:crypto';
import { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_API_VERSION, LAB_DEPLOYMENT, LAB_MESSAGES, labPost } from '../support/lab.js';
import { labTarget, liveMissing, liveRequested, type LabTarget } from './target.js';

/**
 * The seed labs' observable behaviour, written once for both targets: the emulator (in `npm test`) and a real
 * Azure deployment of the lab (`npm run test:live` with the variables of target.ts). Only target.ts knows
 * which one it talks to.
 */
const BODY_429 = /^\{ "statusCode": 429, "message": "Token limit is exceeded\. Try again in (\d+) seconds\." \}$/;

const skipRateLimiting = liveRequested ? liveMissing(false) : undefined;
const skipMetrics = liveRequested ? liveMissing(true) : undefined;
if (skipMetrics) console.warn(skipMetrics); // one line, naming every variable the suite needs
describe.skipIf(skipRateLimiting !== undefined)(`token-rate-limiting lab${skipRateLimiting ? ` (${skipRateLimiting})` : ''}`, () => {
  let target: LabTarget;
  beforeAll(async () => {
    target = await labTarget('token-rate-limiting', ['subscription1']);
  });
  afterAll(() => target?.close());

  it('admits while consumed < 100 TPM, then 429 with the exact body and Retry-After; admitted again after waiting it', async () => {
    const key = target.keys[0]!;
    let res = await labPost(target.gatewayUrl, key);
    if (res.status === 429) {
      // A live counter may still hold an earlier run's tokens: wait them out first.
      await target.wait(Number(res.headers.get('retry-after')));
      res = await labPost(target.gatewayUrl, key);
    }
    const admitted: number[] = [];
    while (res.status === 200 && admitted.length < 30) {
      admitted.push(((await res.json()) as { usage: { total_tokens: number } }).usage.total_tokens);
      res = await labPost(target.gatewayUrl, key);
    }
    expect(admitted.length).toBeGreaterThanOrEqual(1);
    expect(admitted.slice(0, -1).reduce((a, b) => a + b, 0)).toBeLessThan(100); // each admitted call saw < 100
    expect(admitted.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(100);
    expect(res.status).toBe(429);
    expect(res.statusText).toBe('Too Many Requests');
    const body = await res.text();
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(BODY_429.exec(body)?.[1], body).toBe(String(retryAfter));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    await target.wait(retryAfter);
    expect((await labPost(target.gatewayUrl, key)).status).toBe(200);
  }, 180_000);
});

describe.skipIf(skipMetrics !== undefined)(`token-metrics-emitting lab${skipMetrics ? ` (${skipMetrics})` : ''}`, () => {
  let target: LabTarget;
  beforeAll(async () => {
    target = await labTarget('token-metrics-emitting', ['subscription1', 'subscription2', 'subscription3']);
  });
  afterAll(() => target?.close());

  it("the lab's KQL returns one Total Tokens row per call, with its dimensions, summing to the tokens the clients saw", async () => {
    const user = `live-${randomUUID()}`; // isolates this run's rows on a shared App Insights resource
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await labPost(target.gatewayUrl, target.keys[0]!, { 'x-user-id': user });
      expect(res.status).toBe(200);
      seen.push(((await res.json()) as { usage: { total_tokens: number } }).usage.total_tokens);
    }
    for (const [i, key] of target.keys.entries()) {
      const client = new AzureOpenAI({ endpoint: `${target.gatewayUrl}/inference`, apiKey: key, apiVersion: LAB_API_VERSION, deployment: LAB_DEPLOYMENT });
      const completion = await client.chat.completions.create({ model: LAB_DEPLOYMENT, messages: [...LAB_MESSAGES] }, { headers: { 'x-user-id': user } });
      expect(completion.choices[0]!.message.content, `subscription ${i + 1}`).toBeTruthy();
      seen.push(completion.usage!.total_tokens);
    }
    const kql =
      "customMetrics | where name == 'Total Tokens' | extend parsedCustomDimensions = parse_json(customDimensions) | extend clientIP = tostring(parsedCustomDimensions.['Client IP']) | extend apiId = tostring(parsedCustomDimensions.['API ID']) | extend apimSubscription = tostring(parsedCustomDimensions.['Subscription ID']) | extend UserId = tostring(parsedCustomDimensions.['User ID']) | project timestamp, value, clientIP, apiId, apimSubscription, UserId | order by timestamp asc" +
      ` | where UserId == '${user}'`;
    const rows = await target.query(kql, (r) => r.length >= seen.length);
    expect(rows).toHaveLength(seen.length);
    expect(Object.keys(rows[0]!)).toEqual(['timestamp', 'value', 'clientIP', 'apiId', 'apimSubscription', 'UserId']);
    expect(rows.reduce((sum, r) => sum + Number(r.value), 0)).toBe(seen.reduce((a, b) => a + b, 0));
    expect(rows.map((r) => r.apimSubscription)).toEqual(['subscription1', 'subscription1', 'subscription1', 'subscription1', 'subscription2', 'subscription3']);
    for (const r of rows) expect(r).toMatchObject({ apiId: 'inference-api', UserId: user });
  }, 900_000);
});
