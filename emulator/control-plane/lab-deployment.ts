import { createHash } from 'node:crypto';
import type { BackendConfig, EmulatorConfig } from '../config/schema.js';

/**
 * A lab deployment (`az deployment group create --template-file main.bicep --parameters params.json`) turned into
 * an emulator configuration. Bicep is not evaluated: only the parameters below and the policy beside the template
 * are read, and the shared modules' behaviour (labs.md §2) is reproduced.
 */
export class DeploymentInputError extends Error {
  override name = 'DeploymentInputError';
}

export interface LabParameters {
  apimSku: string;
  aiServicesConfig: Array<{ name: string; location?: string; priority?: number; weight?: number }>;
  modelsConfig: Array<{ name: string; publisher?: string; version?: string; sku?: string; capacity?: number; aiservice?: string }>;
  apimSubscriptionsConfig: Array<{ name: string; displayName?: string }>;
  inferenceAPIPath: string;
  inferenceAPIType: 'AzureOpenAI' | 'AzureAI' | 'OpenAI' | 'PassThrough';
  foundryProjectName: string;
}

export const BACKEND_POOL_ID = 'inference-backend-pool';
const API_TYPES = ['AzureOpenAI', 'AzureAI', 'OpenAI', 'PassThrough'] as const;
const REGIONS: Record<string, string> = {
  uksouth: 'UK South',
  swedencentral: 'Sweden Central',
  eastus: 'East US',
  eastus2: 'East US 2',
  westus: 'West US',
  westus3: 'West US 3',
  northcentralus: 'North Central US',
  francecentral: 'France Central',
  westeurope: 'West Europe',
  northeurope: 'North Europe',
  australiaeast: 'Australia East',
  japaneast: 'Japan East',
};

/** `uksouth` → `UK South` (APIM reports display names; unknown names are returned unchanged). */
export function regionDisplayName(location: string): string {
  return REGIONS[location.toLowerCase().replace(/\s+/g, '')] ?? location;
}

/** Reads an ARM parameter file's object (`{ parameters: { name: { value } } }`). */
export function readLabParameters(file: unknown): LabParameters {
  if (file === null || typeof file !== 'object' || Array.isArray(file)) throw new DeploymentInputError('The parameters file must hold a JSON object.');
  const raw = (file as { parameters?: unknown }).parameters;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new DeploymentInputError("The parameters file has no 'parameters' object (ARM deploymentParameters schema).");
  const value = (name: string): unknown => {
    const entry = (raw as Record<string, unknown>)[name];
    if (entry === undefined) return undefined;
    if (entry === null || typeof entry !== 'object' || !('value' in entry)) throw new DeploymentInputError(`Parameter '${name}' must be written as { "value": ... }.`);
    return (entry as { value: unknown }).value;
  };
  const list = <T>(name: string, required: boolean): T[] => {
    const v = value(name);
    if (v === undefined && !required) return [];
    if (!Array.isArray(v) || (required && v.length === 0)) throw new DeploymentInputError(`Parameter '${name}' must be a non-empty array.`);
    v.forEach((item, i) => {
      if (item === null || typeof item !== 'object' || typeof (item as { name?: unknown }).name !== 'string' || (item as { name: string }).name === '') {
        throw new DeploymentInputError(`Parameter '${name}[${i}]' needs a non-empty 'name'.`);
      }
    });
    return v as T[];
  };
  const text = (name: string, fallback: string): string => {
    const v = value(name);
    if (v === undefined) return fallback;
    if (typeof v !== 'string') throw new DeploymentInputError(`Parameter '${name}' must be a string.`);
    return v;
  };
  const apiType = text('inferenceAPIType', 'AzureOpenAI');
  if (!(API_TYPES as readonly string[]).includes(apiType)) throw new DeploymentInputError(`Parameter 'inferenceAPIType' must be one of ${API_TYPES.join(', ')}; got '${apiType}'.`);
  const models = list<LabParameters['modelsConfig'][number]>('modelsConfig', false);
  models.forEach((m, i) => {
    if (m.capacity !== undefined && (typeof m.capacity !== 'number' || !(m.capacity > 0))) throw new DeploymentInputError(`Parameter 'modelsConfig[${i}].capacity' must be a positive number.`);
  });
  return {
    apimSku: text('apimSku', 'Basicv2'),
    aiServicesConfig: list('aiServicesConfig', true),
    modelsConfig: models,
    apimSubscriptionsConfig: list('apimSubscriptionsConfig', false),
    inferenceAPIPath: text('inferenceAPIPath', 'inference').replace(/^\/+|\/+$/g, ''),
    inferenceAPIType: apiType as LabParameters['inferenceAPIType'],
    foundryProjectName: text('foundryProjectName', ''),
  };
}

/** `uniqueString(subscription().id, resourceGroup().id)`-like: 13 lowercase characters, stable per group. */
export function resourceSuffix(subscriptionId: string, resourceGroup: string): string {
  return createHash('sha256').update(`${subscriptionId}/${resourceGroup.toLowerCase()}`).digest('hex').slice(0, 13);
}

export function endpointPath(type: LabParameters['inferenceAPIType']): string {
  return type === 'AzureOpenAI' ? 'openai' : type === 'AzureAI' ? 'models' : '';
}

/** The rule the shared inference-api module sets on every backend when `configureCircuitBreaker` is true. */
export const LAB_CIRCUIT_BREAKER: NonNullable<BackendConfig['circuitBreaker']> = {
  rules: [
    {
      name: 'InferenceBreakerRule',
      failureCondition: { count: 1, errorReasons: ['Server errors'], interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }] },
      tripDuration: 'PT1M',
      acceptRetryAfter: true,
    },
  ],
};

export interface LabTemplateSettings {
  /** main.bicep passes `configureCircuitBreaker: true` to the inference-api module (backend-pool-load-balancing). */
  configureCircuitBreaker?: boolean;
}

/**
 * The gateway the shared Bicep modules would build: one API, one backend per AI service, the lab's policy; with
 * more than one AI service also the `inference-backend-pool` Pool backend (priority and weight from the config).
 */
export function labDeploymentConfig(params: LabParameters, policyXml: string, suffix: string, location: string, template: LabTemplateSettings = {}): EmulatorConfig {
  const endpoint = endpointPath(params.inferenceAPIType);
  const pooled = params.aiServicesConfig.length > 1;
  const backendId = pooled ? BACKEND_POOL_ID : params.aiServicesConfig[0]!.name;
  params.aiServicesConfig.forEach((service, i) => {
    for (const key of ['priority', 'weight'] as const) {
      const v = service[key];
      if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 100)) throw new DeploymentInputError(`Parameter 'aiServicesConfig[${i}].${key}' must be an integer from 0 to 100.`);
    }
  });
  const backends: BackendConfig[] = params.aiServicesConfig.map((service) => ({
    id: service.name,
    url: `https://${service.name}-${suffix}.cognitiveservices.azure.com/${endpoint}`.replace(/\/$/, ''),
    type: 'mock',
    region: regionDisplayName(service.location ?? location),
    credentials: { managedIdentityResource: 'https://cognitiveservices.azure.com' },
    ...(template.configureCircuitBreaker ? { circuitBreaker: LAB_CIRCUIT_BREAKER } : {}),
    deployments: params.modelsConfig
      .filter((m) => m.aiservice === undefined || service.name.includes(m.aiservice))
      .map((m) => ({
        name: m.name,
        model: m.name,
        ...(m.version === undefined ? {} : { version: m.version }),
        ...(m.capacity === undefined ? {} : { capacity: m.capacity }),
        // As in the lab presets (config/presets.ts): calls arrive in milliseconds here, so RPM is checked per minute,
        // and the labs' repeated prompt gets answers of different lengths.
        requestWindowMs: 60_000,
        variedRepeats: true,
      })),
  }));
  if (pooled) {
    backends.push({
      id: BACKEND_POOL_ID,
      type: 'Pool',
      pool: {
        services: params.aiServicesConfig.map((service) => ({
          id: `/backends/${service.name}`,
          ...(service.priority === undefined ? {} : { priority: service.priority }),
          ...(service.weight === undefined ? {} : { weight: service.weight }),
        })),
      },
    });
  }
  return {
    gateway: { serviceName: `apim-${suffix}`, region: regionDisplayName(location), gatewayId: 'managed' },
    backends,
    apis: [
      {
        id: 'inference-api',
        name: 'inference-api',
        displayName: 'Inference API',
        path: [params.inferenceAPIPath, endpoint].filter((p) => p !== '').join('/'),
        type: 'azure-openai',
        subscriptionRequired: true,
        subscriptionKeyParameterNames: { header: 'api-key', query: 'api-key' },
        // As the labs' Bicep: replace(policyXml, '{backend-id}', …) before the policy is stored.
        policy: policyXml.split('{backend-id}').join(backendId),
      },
    ],
    subscriptions: params.apimSubscriptionsConfig.map((s) => ({ name: s.name, displayName: s.displayName ?? s.name, scope: '/apis', state: 'active' })),
  };
}
