import type { EmulatorConfig } from '../../emulator/config/schema.js';

/** One Azure OpenAI-style API at /inference/openai with an `api-key` gate, backed by a real HTTP server. */
export function httpBackendConfig(backendUrl: string, policy: string, extra: Partial<EmulatorConfig> = {}): EmulatorConfig {
  return {
    backends: [{ id: 'backend1', url: `${backendUrl}/openai`, type: 'http' }],
    apis: [
      {
        id: 'inference-api',
        path: 'inference/openai',
        type: 'azure-openai',
        subscriptionKeyParameterNames: { header: 'api-key', query: 'api-key' },
        policy,
      },
    ],
    subscriptions: [
      { name: 'subscription1', displayName: 'Subscription 1' },
      { name: 'subscription2', displayName: 'Subscription 2' },
    ],
    ...extra,
  };
}

export function apiPolicy(inbound: string, sections: { backend?: string; outbound?: string; onError?: string } = {}): string {
  return `<policies>
  <inbound>
    <base />
    <set-backend-service backend-id="backend1" />
    ${inbound}
  </inbound>
  <backend>${sections.backend ?? '<base />'}</backend>
  <outbound><base />${sections.outbound ?? ''}</outbound>
  <on-error><base />${sections.onError ?? ''}</on-error>
</policies>`;
}

/** A product-scope policy: `<base/>` everywhere and `inbound` after it. */
export function productPolicy(inbound: string): string {
  return `<policies>
  <inbound>
    <base />
    ${inbound}
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>`;
}
