import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig, wellKnownSubscriptionKey } from '../../../emulator/config/load.js';
import { presetConfig, PRESETS } from '../../../emulator/config/presets.js';

describe('configuration', () => {
  it('resolves the lab presets with the Azure OpenAI operation set and api-key names', () => {
    for (const name of Object.keys(PRESETS)) {
      const c = resolveConfig(presetConfig(name));
      const api = c.apis[0]!;
      expect(api).toMatchObject({ id: 'inference-api', path: 'inference/openai', headerName: 'api-key', queryName: 'api-key', subscriptionRequired: true });
      expect(api.operations.map((o) => o.urlTemplate)).toContain('/deployments/{deployment-id}/chat/completions');
      expect(c.subscriptions[0]!.primaryKey).toBe(wellKnownSubscriptionKey('subscription1', 'primary'));
    }
    expect(resolveConfig(presetConfig('token-metrics-emitting')).subscriptions.map((s) => s.name)).toEqual(['subscription1', 'subscription2', 'subscription3']);
  });

  it('defaults the key names to APIM’s Ocp-Apim-Subscription-Key / subscription-key', () => {
    const c = resolveConfig({ apis: [{ id: 'a', path: 'a', operations: [{ id: 'get', method: 'get', urlTemplate: '/x' }] }] });
    expect(c.apis[0]).toMatchObject({ headerName: 'Ocp-Apim-Subscription-Key', queryName: 'subscription-key' });
    expect(c.apis[0]!.operations[0]!.method).toBe('GET');
  });

  it.each([
    [{ apis: [{ id: 'a', path: 'a' }] }, 'apis[0].operations: an API needs at least one operation'],
    [{ apis: [{ id: 'a', path: 'a', type: 'azure-openai' }], subscriptions: [{ name: 's', scope: '/products/none' }] }, "subscriptions[0].scope: unknown product 'none'"],
    [{ apis: [{ id: 'a', path: 'a', type: 'azure-openai' }], subscriptions: [{ name: 's', scope: '/tenants/x' }] }, "subscriptions[0].scope: '/tenants/x' is not a subscription scope"],
    [{ apis: [{ id: 'a', path: 'a', type: 'azure-openai' }], backends: [{ id: 'b', url: 'not a url' }] }, "backends[0].url: 'not a url' is not an absolute URL"],
    [{ apis: [{ id: 'a', path: 'a', type: 'azure-openai' }, { id: 'A', path: 'b', type: 'azure-openai' }] }, "apis: duplicate 'A'"],
    [{ apis: [{ id: 'a', path: 'a', type: 'azure-openai' }], subscriptions: [{ name: 's', state: 'paused' }] }, 'subscriptions[0].state: expected one of active'],
    [{ apis: [{ id: 'a', path: 'a', type: 'azure-openai' }], backends: [{ id: 'b', url: 'http://x', deployments: [], latency: 'slow' }] }, "backends[0].latency: unknown preset 'slow'; use none or realistic"],
  ])('rejects bad configuration with the path of the problem (%#)', (config, message) => {
    expect(() => resolveConfig(config as never)).toThrow(ConfigError);
    expect(() => resolveConfig(config as never)).toThrow(message);
  });

  it('names the available presets when an unknown one is asked for', () => {
    expect(() => presetConfig('nope')).toThrow("Unknown preset 'nope'. Available presets: token-rate-limiting, token-metrics-emitting.");
  });
});

describe('policyEngine settings', () => {
  it('flow from the config file into the engine, and unknown settings are refused', async () => {
    const { startEmulator } = await import('../../../emulator/testing/start-emulator.js');
    const { presetConfig } = await import('../../../emulator/config/presets.js');
    const config = { ...presetConfig('token-rate-limiting'), policyEngine: { maxCustomDimensions: 2, weekStartsOn: 'sunday' as const } };
    const gw = await startEmulator({ config });
    try {
      expect(gw.emulator.engine.services.options).toMatchObject({ maxCustomDimensions: 2, weekStartsOn: 'sunday', strict: true });
      expect(() =>
        gw.policies.set('apis/inference-api', '<policies><inbound><llm-emit-token-metric><dimension name="API ID" /><dimension name="Operation ID" /><dimension name="Subscription ID" /></llm-emit-token-metric></inbound></policies>'),
      ).toThrow('at most 2 are allowed');
    } finally {
      await gw.close();
    }
    expect(() => resolveConfig({ ...presetConfig('token-rate-limiting'), policyEngine: { strictness: 1 } as never })).toThrow('policyEngine.strictness: unknown setting');
  });
});
