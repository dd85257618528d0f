import type { EmulatorConfig } from './schema.js';

/** The seed labs' API policy shape (labs.md §3.2, §4.2): `{backend-id}` is substituted at load, as the labs' bicep does. */
function labPolicy(inbound: string): string {
  return `<policies>
    <inbound>
        <base />
        <set-backend-service backend-id="{backend-id}" />
${inbound}
    </inbound>
    <backend>
        <base />
    </backend>
    <outbound>
        <base />
    </outbound>
    <on-error>
        <base />
    </on-error>
</policies>
`;
}

export const TOKEN_RATE_LIMITING_POLICY = labPolicy(`        <llm-token-limit counter-key="@(context.Subscription.Id)"
            tokens-per-minute="100" estimate-prompt-tokens="false" remaining-tokens-variable-name="remainingTokens">
        </llm-token-limit>`);

export const TOKEN_METRICS_EMITTING_POLICY = labPolicy(`        <azure-openai-emit-token-metric namespace="openai">
            <dimension name="Subscription ID" value="@(context.Subscription.Id)" />
            <dimension name="Client IP" value="@(context.Request.IpAddress)" />
            <dimension name="API ID" value="@(context.Api.Id)" />
            <dimension name="User ID" value="@(context.Request.Headers.GetValueOrDefault("x-user-id", "N/A"))" />
        </azure-openai-emit-token-metric>`);

function labConfig(policy: string, subscriptions: Array<[string, string]>): EmulatorConfig {
  return {
    gateway: { serviceName: 'apim-emulator', region: 'UK South', gatewayId: 'managed' },
    backends: [
      {
        id: 'foundry1',
        url: 'https://foundry1-emulator.cognitiveservices.azure.com/openai',
        type: 'mock',
        region: 'UK South',
        credentials: { managedIdentityResource: 'https://cognitiveservices.azure.com' },
        // Capacity 20 = 20K TPM, 120 RPM. Azure checks RPM per 10 s (20 requests); the labs' calls take about a
        // second each on Azure, but arrive in milliseconds here, so the request window is a minute. The labs repeat
        // one prompt; sampled at temperature 1 on Azure, it gets answers of different lengths (variedRepeats).
        deployments: [{ name: 'gpt-4.1-mini', model: 'gpt-4.1-mini', version: '2025-04-14', capacity: 20, requestWindowMs: 60_000, variedRepeats: true }],
      },
    ],
    apis: [
      {
        id: 'inference-api',
        name: 'inference-api',
        displayName: 'Inference API',
        path: 'inference/openai',
        type: 'azure-openai',
        subscriptionRequired: true,
        subscriptionKeyParameterNames: { header: 'api-key', query: 'api-key' },
        policy,
        policyPlaceholders: { '{backend-id}': 'foundry1' },
      },
    ],
    subscriptions: subscriptions.map(([name, displayName]) => ({ name, displayName, scope: '/apis', state: 'active' })),
  };
}

export const PRESETS = {
  'token-rate-limiting': () => labConfig(TOKEN_RATE_LIMITING_POLICY, [['subscription1', 'Subscription 1']]),
  'token-metrics-emitting': () =>
    labConfig(TOKEN_METRICS_EMITTING_POLICY, [
      ['subscription1', 'Subscription 1'],
      ['subscription2', 'Subscription 2'],
      ['subscription3', 'Subscription 3'],
    ]),
} as const satisfies Record<string, () => EmulatorConfig>;

export type PresetName = keyof typeof PRESETS;
export const DEFAULT_PRESET: PresetName = 'token-rate-limiting';

export function presetConfig(name: string): EmulatorConfig {
  const factory = (PRESETS as Record<string, () => EmulatorConfig>)[name];
  if (!factory) throw new Error(`Unknown preset '${name}'. Available presets: ${Object.keys(PRESETS).join(', ')}.`);
  return factory();
}
