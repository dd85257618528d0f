import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeploymentInputs } from '../../../emulator/az/az.mjs';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { chatUrl, LAB_MESSAGES } from '../../support/lab.js';
import { POOL_LAB_POLICY } from './pool-lab.js';

/** params.json of the backend-pool-load-balancing lab's shape: 4 AI services with priority/weight. */
const PARAMS = {
  parameters: {
    apimSku: { value: 'Basicv2' },
    aiServicesConfig: {
      value: [
        { name: 'foundry1', location: 'eastus', priority: 1 },
        { name: 'foundry2', location: 'swedencentral', priority: 2, weight: 50 },
        { name: 'foundry3', location: 'westus', priority: 2, weight: 50 },
        { name: 'foundry4', location: 'uksouth', priority: 3 },
      ],
    },
    modelsConfig: { value: [{ name: 'gpt-4.1-mini', publisher: 'OpenAI', version: '2025-04-14', sku: 'GlobalStandard', capacity: 100 }] },
    apimSubscriptionsConfig: { value: [{ name: 'subscription1', displayName: 'Subscription 1' }] },
  },
};

describe('a lab deployment with several AI services builds the inference-backend-pool', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    gw = await startEmulator({});
  });
  afterAll(() => gw.close());

  const deploy = async (body: object) => {
    await fetch(`${gw.url}/_emulator/resource-groups/lab-pool`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ location: 'uksouth' }) });
    return fetch(`${gw.url}/_emulator/deployments/lab-pool/backend-pool`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  };
  const post = async () => {
    const key = gw.emulator.config.subscriptions[0]!.primaryKey;
    const res = await fetch(chatUrl(gw.url), { method: 'POST', headers: { 'api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ messages: LAB_MESSAGES }) });
    await res.arrayBuffer();
    return { status: res.status, region: res.headers.get('x-ms-region') };
  };

  it('routes {backend-id} to the pool; with configureCircuitBreaker a 429 from foundry1 fails over to priority 2', async () => {
    const res = await deploy({ parametersFile: PARAMS, policyXml: POOL_LAB_POLICY, configureCircuitBreaker: true });
    expect(res.status).toBe(200);
    const pool = gw.emulator.config.backends.find((b) => b.id === 'inference-backend-pool');
    expect(pool).toMatchObject({ type: 'pool', pool: { services: [{ id: '/backends/foundry1', priority: 1 }, { id: '/backends/foundry2', priority: 2, weight: 50 }, { id: '/backends/foundry3', priority: 2, weight: 50 }, { id: '/backends/foundry4', priority: 3 }] } });
    expect(gw.emulator.engine.getPolicy({ kind: 'api', apiId: 'inference-api' })?.xml).toBeDefined();
    expect(await post()).toEqual({ status: 200, region: 'East US' });
    gw.emulator.mocks.get('foundry1')!.faults.add({ kind: 'status', status: 429, retryAfterMs: 30_000 });
    const next = await post();
    expect(next.status).toBe(200);
    expect(['Sweden Central', 'West US']).toContain(next.region);
    expect(gw.emulator.backendRouter.state().foundry1!.open).toBe(true);
    const listed = (await (await fetch(`${gw.url}/_emulator/backends`)).json()) as Array<Record<string, unknown>>;
    expect(listed.map((b) => [b.id, b.type])).toEqual([['foundry1', 'Single'], ['foundry2', 'Single'], ['foundry3', 'Single'], ['foundry4', 'Single'], ['inference-backend-pool', 'Pool']]);
    expect(listed[0]).toMatchObject({ transport: 'mock', circuitBreaker: { rules: [{ name: 'InferenceBreakerRule', tripDuration: 'PT1M', acceptRetryAfter: true }] }, breaker: { open: true, rule: 'InferenceBreakerRule', until: '2026-01-01T00:00:30.000Z' } });
    expect(listed[1]).toMatchObject({ breaker: { open: false } });
  });

  it('without configureCircuitBreaker the members have no breaker: the 429 is retried on the pool and may hit foundry1 again', async () => {
    const res = await deploy({ parametersFile: PARAMS, policyXml: POOL_LAB_POLICY });
    expect(res.status).toBe(200);
    expect(gw.emulator.backendRouter.state()).toEqual({});
    gw.emulator.mocks.get('foundry1')!.faults.add({ kind: 'status', status: 429, retryAfterMs: 30_000 });
    // Nothing removes foundry1 from the pool: 3 attempts, all on priority 1.
    expect((await post()).status).toBe(429);
    expect(gw.emulator.mocks.get('foundry1')!.calls.length).toBe(3);
  });

  it("refuses a priority outside 0–100 with the parameter's name", async () => {
    const bad = structuredClone(PARAMS);
    bad.parameters.aiServicesConfig.value[1]!.priority = 101;
    const res = await deploy({ parametersFile: bad, policyXml: POOL_LAB_POLICY });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("Parameter 'aiServicesConfig[1].priority' must be an integer from 0 to 100.");
  });
});

describe('az deployment group create reads configureCircuitBreaker from the template', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pool-template-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes configureCircuitBreaker: true when main.bicep sets it, and nothing otherwise', () => {
    writeFileSync(join(dir, 'policy.xml'), '<policies/>');
    writeFileSync(join(dir, 'params.json'), JSON.stringify(PARAMS));
    writeFileSync(join(dir, 'main.bicep'), "module m '../../modules/apim/v2/inference-api.bicep' = {\n  params: {\n    policyXml: loadTextContent('policy.xml')\n    configureCircuitBreaker: true\n  }\n}\n");
    expect(readDeploymentInputs(dir, 'main.bicep', ['params.json'])).toHaveProperty('configureCircuitBreaker', true);
    writeFileSync(join(dir, 'main.bicep'), "module m '../../modules/apim/v2/inference-api.bicep' = {\n  params: {\n    policyXml: loadTextContent('policy.xml')\n  }\n}\n");
    expect(readDeploymentInputs(dir, 'main.bicep', ['params.json'])).not.toHaveProperty('configureCircuitBreaker');
  });
});

describe('the backend-pool-load-balancing notebook against a deployment: capacity 1 throttles, traffic fails over', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    gw = await startEmulator({});
  });
  afterAll(() => gw.close());

  it('serves 6 calls per backend (6 RPM) in priority order, then 503 "Service Unavailable"; breakers close after Retry-After', async () => {
    const params = structuredClone(PARAMS);
    // The notebook's models_config: capacity 1 = 1K TPM and 6 RPM per deployment.
    params.parameters.modelsConfig.value = [{ name: 'gpt-4o-mini', publisher: 'OpenAI', version: '2024-07-18', sku: 'GlobalStandard', capacity: 1 }];
    await fetch(`${gw.url}/_emulator/resource-groups/lab-backend-pool-load-balancing`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ location: 'eastus' }) });
    const deployed = await fetch(`${gw.url}/_emulator/deployments/lab-backend-pool-load-balancing/backend-pool-load-balancing`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ parametersFile: params, policyXml: POOL_LAB_POLICY, configureCircuitBreaker: true }),
    });
    expect(deployed.status).toBe(200);
    const key = gw.emulator.config.subscriptions[0]!.primaryKey;
    const run = async () => {
      const res = await fetch(chatUrl(gw.url, 'gpt-4o-mini'), { method: 'POST', headers: { 'api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ messages: LAB_MESSAGES }) });
      await res.arrayBuffer();
      return { status: res.status, reason: res.statusText, region: res.headers.get('x-ms-region') };
    };
    const runs = [];
    for (let i = 0; i < 26; i++) runs.push(await run());
    expect(runs.slice(0, 6).map((r) => r.region)).toEqual(Array(6).fill('East US'));
    const second = runs.slice(6, 18);
    expect(second.every((r) => r.status === 200)).toBe(true);
    expect(second.filter((r) => r.region === 'Sweden Central')).toHaveLength(6);
    expect(second.filter((r) => r.region === 'West US')).toHaveLength(6);
    expect(runs.slice(18, 24).map((r) => [r.status, r.region])).toEqual(Array(6).fill([200, 'UK South']));
    expect(runs.slice(24).map((r) => [r.status, r.reason])).toEqual([
      [503, 'Service Unavailable'],
      [503, 'Service Unavailable'],
    ]);
    // The mock's Retry-After is at most the 60 s request window: every breaker has closed after it.
    gw.clock.advance('60s');
    expect(await run()).toEqual({ status: 200, reason: 'OK', region: 'East US' });
  });
});
