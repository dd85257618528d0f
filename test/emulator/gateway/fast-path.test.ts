import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isGatewayFastPath } from '../../../emulator/app.js';

const req = (url: string, headers: Record<string, string> = {}) => ({ url, headers }) as unknown as IncomingMessage;

describe('gateway fast path (requests that skip Express)', () => {
  it.each([
    '/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview',
    '/openai/models',
    '/metricsx',
    '/v2/tracking',
    '/v10/x',
    '/_emulatorx',
  ])('%s goes straight to the gateway', (url) => expect(isGatewayFastPath(req(url))).toBe(true));

  it.each([
    '/_emulator/health',
    '/_EMULATOR/clock',
    '/_emulator',
    '/metrics',
    '/Metrics/',
    '/v2/track',
    '/v2.1/track?x=1',
    '/v1/apps/abc/query',
    '/v1/$batch',
    '//_emulator/health',
    '/%5Femulator/health',
    'http://host/inference/openai/models',
    '*',
  ])('%s goes through Express (a route there may claim it)', (url) => expect(isGatewayFastPath(req(url))).toBe(false));

  it('a Content-Encoding goes through Express (express.raw inflates or refuses it)', () => {
    expect(isGatewayFastPath(req('/inference/openai/models', { 'content-encoding': 'gzip' }))).toBe(false);
  });
});
