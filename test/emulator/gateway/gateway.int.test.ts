import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { presetConfig } from '../../../emulator/config/presets.js';
import { wellKnownSubscriptionKey } from '../../../emulator/config/load.js';
import { chatUrl, LAB_MESSAGES } from '../../support/lab.js';

const MISSING_KEY_BODY =
  '{ "statusCode": 401, "message": "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API." }';
const INVALID_KEY_BODY =
  '{ "statusCode": 401, "message": "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription." }';
const NOT_FOUND_BODY = '{ "statusCode": 404, "message": "Resource not found" }';

describe('gateway surface: routing and the subscription-key gate', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    const config = presetConfig('token-metrics-emitting');
    config.subscriptions![2]!.state = 'suspended';
    gw = await startEmulator({ config });
  });
  afterAll(() => gw.close());
  const path = new URL(chatUrl('http://x')).pathname + '?api-version=2025-03-01-preview';
  const body = { messages: LAB_MESSAGES };

  it('401 with the exact APIM body when no key is sent', async () => {
    const res = await request(gw.url).post(path).send(body);
    expect(res.status).toBe(401);
    expect(res.text).toBe(MISSING_KEY_BODY);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect((res as unknown as { res: { statusMessage: string } }).res.statusMessage).toBe('Unauthorized');
  });

  it('401 invalid key for a wrong key, and for a key sent only as Ocp-Apim-Subscription-Key to an api-key API', async () => {
    const wrong = await request(gw.url).post(path).set('api-key', '0123456789abcdef0123456789abcdef').send(body);
    expect(wrong.status).toBe(401);
    expect(wrong.text).toBe(INVALID_KEY_BODY);
    const ocp = await request(gw.url).post(path).set('Ocp-Apim-Subscription-Key', gw.keyFor('subscription1')).send(body);
    expect(ocp.status).toBe(401);
    expect(ocp.text).toBe(MISSING_KEY_BODY);
  });

  it('accepts primary and secondary keys, in the header or the query parameter; the header wins', async () => {
    const sub = gw.subscriptions.find((s) => s.name === 'subscription1')!;
    expect((await request(gw.url).post(path).set('api-key', sub.primaryKey).send(body)).status).toBe(200);
    expect((await request(gw.url).post(path).set('api-key', sub.secondaryKey).send(body)).status).toBe(200);
    expect((await request(gw.url).post(`${path}&api-key=${sub.primaryKey}`).send(body)).status).toBe(200);
    const headerWins = await request(gw.url).post(`${path}&api-key=${sub.primaryKey}`).set('api-key', 'nope').send(body);
    expect(headerWins.status).toBe(401);
    expect(headerWins.text).toBe(INVALID_KEY_BODY);
  });

  it('refuses a suspended subscription’s key as invalid', async () => {
    const res = await request(gw.url).post(path).set('api-key', gw.keyFor('subscription3')).send(body);
    expect(res.status).toBe(401);
    expect(res.text).toBe(INVALID_KEY_BODY);
  });

  it('404 Resource not found for unknown paths and unknown operations', async () => {
    for (const p of ['/nope', '/inference/openai/v1/chat/completions', '/inference/openai/deployments/x/unknown']) {
      const res = await request(gw.url).post(p).set('api-key', gw.keyFor('subscription1')).send(body);
      expect(res.status, p).toBe(404);
      expect(res.text).toBe(NOT_FOUND_BODY);
      expect((res as unknown as { res: { statusMessage: string } }).res.statusMessage).toBe('Not Found');
    }
  });

  it('uses documented well-known keys derived from the subscription name', () => {
    expect(gw.keyFor('subscription1')).toBe(wellKnownSubscriptionKey('subscription1', 'primary'));
    expect(gw.keyFor('subscription1')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('passes the backend’s headers through', async () => {
    const res = await request(gw.url).post(path).set('api-key', gw.keyFor('subscription1')).send(body);
    expect(res.status).toBe(200);
    expect(res.headers['x-ms-region']).toBe('UK South');
    expect(res.headers['x-ratelimit-remaining-tokens']).toBeDefined();
    expect(res.headers['x-ratelimit-remaining-requests']).toBeDefined();
    expect(res.body.usage.total_tokens).toBe(res.body.usage.prompt_tokens + res.body.usage.completion_tokens);
  });
});
