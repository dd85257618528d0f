import type { EmulatorConfig } from '../../../emulator/config/schema.js';

/** The backend-pool-load-balancing lab's policy shape (labs.md §8.2), written for these tests. */
export const POOL_LAB_POLICY = `<policies>
  <inbound>
    <base />
    <set-backend-service backend-id="{backend-id}" />
  </inbound>
  <backend>
    <retry count="2" interval="0" first-fast-retry="true" condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode == 503)">
      <set-backend-service backend-id="{backend-id}" />
      <forward-request buffer-request-body="true" />
    </retry>
  </backend>
  <outbound>
    <base />
  </outbound>
  <on-error>
    <base />
    <choose>
      <when condition="@(context.Response.StatusCode == 503)">
        <return-response>
          <set-status code="503" reason="Service Unavailable" />
          <set-header name="x-last-error" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason)</value></set-header>
        </return-response>
      </when>
    </choose>
  </on-error>
</policies>`;

export const REGIONS = { foundry1: 'East US', foundry2: 'Sweden Central', foundry3: 'West US', foundry4: 'UK South' } as const;
export type MemberId = keyof typeof REGIONS;

export interface PoolLabOptions {
  /** Weights of the two priority-2 members (the lab: 50/50). */
  weights?: [number, number];
  acceptRetryAfter?: boolean;
  policy?: string;
}

/** Four mock AI services behind `inference-backend-pool`: foundry1 p1; foundry2, foundry3 p2; foundry4 p3. */
export function poolLabConfig(options: PoolLabOptions = {}): EmulatorConfig {
  const [w2, w3] = options.weights ?? [50, 50];
  const breaker = {
    rules: [
      {
        name: 'InferenceBreakerRule',
        failureCondition: { count: 1, errorReasons: ['Server errors'], interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }] },
        tripDuration: 'PT1M',
        acceptRetryAfter: options.acceptRetryAfter ?? true,
      },
    ],
  };
  return {
    gateway: { serviceName: 'apim-pool', region: 'UK South', gatewayId: 'managed' },
    backends: [
      ...(Object.keys(REGIONS) as MemberId[]).map((id) => ({
        id,
        url: `https://${id}-pool.cognitiveservices.azure.com/openai`,
        type: 'mock' as const,
        region: REGIONS[id],
        circuitBreaker: breaker,
        // 200 capacity units: 200K TPM, 1,200 RPM, so the weight runs are not throttled by the mock itself.
        deployments: [{ name: 'gpt-4.1-mini', model: 'gpt-4.1-mini', capacity: 200, requestWindowMs: 60_000 }],
      })),
      {
        id: 'inference-backend-pool',
        type: 'Pool',
        pool: {
          services: [
            { id: '/backends/foundry1', priority: 1, weight: 100 },
            { id: '/backends/foundry2', priority: 2, weight: w2 },
            { id: '/backends/foundry3', priority: 2, weight: w3 },
            { id: '/backends/foundry4', priority: 3, weight: 100 },
          ],
        },
      },
    ],
    apis: [
      {
        id: 'inference-api',
        path: 'inference/openai',
        type: 'azure-openai',
        subscriptionKeyParameterNames: { header: 'api-key', query: 'api-key' },
        policy: options.policy ?? POOL_LAB_POLICY,
        policyPlaceholders: { '{backend-id}': 'inference-backend-pool' },
      },
    ],
    subscriptions: [{ name: 'subscription1', displayName: 'Subscription 1' }],
  };
}
