import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { AZURE_OPENAI_OPERATIONS } from './azure-openai-operations.js';
import { LATENCY_PRESETS } from '../../mock-models/index.js';
import { defaultAppInsightsIdentity, type AppInsightsIdentity } from '../app-insights/store.js';
import { isPoolType, validateBackendRouting } from '../backends/config.js';
import type { ApiConfig, BackendConfig, PolicyEngineConfig, EmulatorConfig, OperationConfig, ProductConfig, SubscriptionConfig, SubscriptionState } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Fully defaulted configuration the emulator runs on. */
export interface ResolvedConfig {
  gateway: { serviceName: string; region: string; gatewayId: string; maxRequestBodyBytes: number; headersTimeoutMs: number; requestTimeoutMs: number; stripSubscriptionKey: boolean };
  namedValues: Record<string, string>;
  /** Policy fragments by id (the control plane adds and removes them). */
  fragments: Record<string, string>;
  backends: ResolvedBackend[];
  apis: ResolvedApi[];
  products: Array<Required<Pick<ProductConfig, 'id' | 'name' | 'apis' | 'subscriptionRequired' | 'state'>> & { policy?: string }>;
  subscriptions: ResolvedSubscription[];
  globalPolicy?: string;
  policyEngine: PolicyEngineConfig;
  appInsights: AppInsightsIdentity;
}

/** A backend with its transport decided; a pool's `url` is ''. */
export type ResolvedBackend = Omit<BackendConfig, 'type' | 'url'> & { url: string; type: 'mock' | 'http' | 'pool' | 'content-safety' };

export interface ResolvedApi {
  id: string;
  name: string;
  displayName: string;
  path: string;
  type: 'azure-openai' | 'http';
  serviceUrl: string | null;
  subscriptionRequired: boolean;
  headerName: string;
  queryName: string;
  operations: Array<Required<Pick<OperationConfig, 'id' | 'name' | 'method' | 'urlTemplate'>> & { policy?: string }>;
  policy?: string;
  policyPlaceholders: Record<string, string>;
  openApi?: Record<string, unknown>;
  version: string;
  revision: string;
}

export interface ResolvedSubscription {
  name: string;
  displayName: string;
  scope: { kind: 'all' } | { kind: 'api'; apiId: string } | { kind: 'product'; productId: string };
  scopeText: string;
  primaryKey: string;
  secondaryKey: string;
  state: SubscriptionState;
  userId?: string;
}

/**
 * Well-known subscription keys (like Azurite's well-known account key): derived from the subscription
 * name, so `subscription1`'s key is the same on every machine. 32 hex characters, like APIM's keys.
 */
export function wellKnownSubscriptionKey(name: string, which: 'primary' | 'secondary'): string {
  return createHash('sha256').update(`ai-gateway-emulator:${name}:${which}`).digest('hex').slice(0, 32);
}

const SUBSCRIPTION_STATES: readonly SubscriptionState[] = ['active', 'suspended', 'submitted', 'rejected', 'cancelled', 'expired'];

/** The YAML parser (~60 ms of imports) is required for YAML files only. */
function parseYaml(text: string): unknown {
  return (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);
}

/** Reads a JSON or YAML configuration file; policy values ending in .xml are read relative to it. */
export function loadConfigFile(path: string): EmulatorConfig {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read config file ${absolute}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = extname(absolute).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(`Config file ${absolute} is not valid ${extname(absolute) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`);
  }
  if (!raw || typeof raw !== 'object') throw new ConfigError(`Config file ${absolute} must contain an object.`);
  return readPolicyFiles(raw as EmulatorConfig, dirname(absolute));
}

function readPolicyFiles(config: EmulatorConfig, baseDir: string): EmulatorConfig {
  const read = (value: string | undefined, where: string): string | undefined => {
    if (value === undefined || value.trimStart().startsWith('<') || !/\.xml$/i.test(value.trim())) return value;
    const file = resolve(baseDir, value.trim());
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`${where}: cannot read policy file ${file}: ${(error as Error).message}`);
    }
  };
  return {
    ...config,
    globalPolicy: read(config.globalPolicy, 'globalPolicy'),
    apis: (config.apis ?? []).map((api, i) => ({
      ...api,
      policy: read(api.policy, `apis[${i}].policy`),
      operations: api.operations?.map((op, j) => ({ ...op, policy: read(op.policy, `apis[${i}].operations[${j}].policy`) })),
    })),
    products: config.products?.map((p, i) => ({ ...p, policy: read(p.policy, `products[${i}].policy`) })),
    ...(config.fragments && typeof config.fragments === 'object'
      ? { fragments: Object.fromEntries(Object.entries(config.fragments).map(([id, xml]) => [id, typeof xml === 'string' ? read(xml, `fragments.${id}`)! : xml])) }
      : {}),
  };
}

/** Validates and fills defaults. Errors name the offending path. */
export function resolveConfig(config: EmulatorConfig): ResolvedConfig {
  const fail = (path: string, message: string): never => {
    throw new ConfigError(`${path}: ${message}`);
  };
  const requireString = (value: unknown, path: string): string => {
    if (typeof value !== 'string' || value.trim() === '') fail(path, 'a non-empty string is required');
    return value as string;
  };
  if (!Array.isArray(config.apis)) fail('apis', 'an array of APIs is required');

  const backends = (config.backends ?? []).map((b, i): ResolvedBackend => {
    requireString(b.id, `backends[${i}].id`);
    if (isPoolType(b.type)) return { ...b, url: '', type: 'pool' };
    if (b.type === 'content-safety') return { ...b, url: resolveContentSafetyBackend(b, i, fail), type: 'content-safety' };
    if (b.contentSafety !== undefined) fail(`backends[${i}].contentSafety`, "only a backend of type 'content-safety' has a classifier");
    const url = requireString(b.url, `backends[${i}].url`);
    try {
      new URL(url);
    } catch {
      fail(`backends[${i}].url`, `'${b.url}' is not an absolute URL`);
    }
    if (b.connectTo !== undefined && !/^https?:\/\/[^/]+/i.test(String(b.connectTo))) fail(`backends[${i}].connectTo`, `'${String(b.connectTo)}' is not an absolute http(s) URL`);
    if (typeof b.latency === 'string' && !(b.latency in LATENCY_PRESETS)) {
      fail(`backends[${i}].latency`, `unknown preset '${b.latency}'; use ${Object.keys(LATENCY_PRESETS).join(' or ')}, or { ttftMs, perTokenMs }`);
    }
    const type = b.type ?? (b.deployments ? 'mock' : 'http');
    if (type !== 'mock' && type !== 'http') fail(`backends[${i}].type`, `expected 'mock', 'http' or 'pool', got '${String(type)}'`);
    const fromEnv = b.credentials?.headersFromEnv;
    if (fromEnv === undefined) return { ...b, url, type: type as 'mock' | 'http' };
    // Secrets stay in the environment: read here, never printed (messages name the variable only).
    const headers: Record<string, string> = { ...b.credentials?.headers };
    for (const [header, variable] of Object.entries(fromEnv)) {
      const value = process.env[variable];
      if (value === undefined || value === '') fail(`backends[${i}].credentials.headersFromEnv.${header}`, `environment variable ${variable} is not set`);
      headers[header] = value as string;
    }
    return { ...b, url, type: type as 'mock' | 'http', credentials: { ...b.credentials, headers } };
  });
  unique(backends.map((b) => b.id), 'backends', fail);
  validateBackendRouting(config.backends ?? [], fail);

  const apis: ResolvedApi[] = config.apis.map((api: ApiConfig, i) => {
    const id = requireString(api.id, `apis[${i}].id`);
    const type = api.type ?? 'http';
    if (type !== 'azure-openai' && type !== 'http') fail(`apis[${i}].type`, `expected 'azure-openai' or 'http', got '${String(type)}'`);
    const operations = (api.operations ?? (type === 'azure-openai' ? AZURE_OPENAI_OPERATIONS : [])).map((op, j) => {
      const where = `apis[${i}].operations[${j}]`;
      const template = requireString(op.urlTemplate, `${where}.urlTemplate`);
      return {
        id: requireString(op.id, `${where}.id`),
        name: op.name ?? op.id,
        method: requireString(op.method, `${where}.method`).toUpperCase(),
        urlTemplate: template.startsWith('/') ? template : `/${template}`,
        ...(op.policy === undefined ? {} : { policy: op.policy }),
      };
    });
    if (operations.length === 0) fail(`apis[${i}].operations`, 'an API needs at least one operation (or type: azure-openai)');
    unique(operations.map((o) => o.id), `apis[${i}].operations`, fail);
    return {
      id,
      name: api.name ?? id,
      displayName: api.displayName ?? api.name ?? id,
      path: normalizeApiPath(api.path ?? ''),
      type,
      serviceUrl: api.serviceUrl ?? null,
      subscriptionRequired: api.subscriptionRequired ?? true,
      headerName: api.subscriptionKeyParameterNames?.header ?? 'Ocp-Apim-Subscription-Key',
      queryName: api.subscriptionKeyParameterNames?.query ?? 'subscription-key',
      operations,
      ...(api.policy === undefined ? {} : { policy: api.policy }),
      policyPlaceholders: api.policyPlaceholders ?? {},
      ...(api.openApi === undefined ? {} : { openApi: openApiDocument(api.openApi, `apis[${i}].openApi`, fail) }),
      version: api.version ?? '',
      revision: api.revision ?? '1',
    };
  });
  unique(apis.map((a) => a.id), 'apis', fail);
  unique(apis.map((a) => a.path), 'apis (path)', fail);

  const products = (config.products ?? []).map((p, i) => {
    const id = requireString(p.id, `products[${i}].id`);
    for (const apiId of p.apis ?? []) if (!apis.some((a) => a.id === apiId)) fail(`products[${i}].apis`, `unknown API '${apiId}'`);
    return {
      id,
      name: p.name ?? id,
      apis: p.apis ?? [],
      subscriptionRequired: p.subscriptionRequired ?? true,
      state: p.state ?? 'published',
      ...(p.policy === undefined ? {} : { policy: p.policy }),
    };
  });
  unique(products.map((p) => p.id), 'products', fail);

  const subscriptions = (config.subscriptions ?? []).map((s: SubscriptionConfig, i): ResolvedSubscription => {
    const name = requireString(s.name, `subscriptions[${i}].name`);
    const scopeText = s.scope ?? '/apis';
    const scope = parseSubscriptionScope(scopeText, (m) => fail(`subscriptions[${i}].scope`, m));
    if (scope.kind === 'api' && !apis.some((a) => a.id === scope.apiId)) fail(`subscriptions[${i}].scope`, `unknown API '${scope.apiId}'`);
    if (scope.kind === 'product' && !products.some((p) => p.id === scope.productId)) fail(`subscriptions[${i}].scope`, `unknown product '${scope.productId}'`);
    const state = s.state ?? 'active';
    if (!SUBSCRIPTION_STATES.includes(state)) fail(`subscriptions[${i}].state`, `expected one of ${SUBSCRIPTION_STATES.join(', ')}`);
    return {
      name,
      displayName: s.displayName ?? name,
      scope,
      scopeText,
      primaryKey: s.primaryKey ?? wellKnownSubscriptionKey(name, 'primary'),
      secondaryKey: s.secondaryKey ?? wellKnownSubscriptionKey(name, 'secondary'),
      state,
      ...(s.userId === undefined ? {} : { userId: s.userId }),
    };
  });
  unique(subscriptions.map((s) => s.name), 'subscriptions', fail);
  unique(subscriptions.flatMap((s) => [s.primaryKey, s.secondaryKey]), 'subscriptions (keys)', fail);

  return {
    gateway: {
      serviceName: config.gateway?.serviceName ?? 'apim-emulator',
      region: config.gateway?.region ?? 'UK South',
      gatewayId: config.gateway?.gatewayId ?? 'managed',
      maxRequestBodyBytes: positiveInteger(config.gateway?.maxRequestBodyBytes, 'gateway.maxRequestBodyBytes', 100 * 1024 * 1024, fail),
      headersTimeoutMs: positiveInteger(config.gateway?.headersTimeoutMs, 'gateway.headersTimeoutMs', 60_000, fail),
      requestTimeoutMs: positiveInteger(config.gateway?.requestTimeoutMs, 'gateway.requestTimeoutMs', 300_000, fail),
      stripSubscriptionKey: config.gateway?.stripSubscriptionKey === true,
    },
    namedValues: config.namedValues ?? {},
    fragments: resolveFragments(config.fragments, fail),
    backends,
    apis,
    products,
    subscriptions,
    ...(config.globalPolicy === undefined ? {} : { globalPolicy: config.globalPolicy }),
    policyEngine: resolvePolicyEngine(config.policyEngine ?? {}, fail),
    appInsights: defaultAppInsightsIdentity(config.appInsights),
  };
}

/** `fragments`: id → fragment XML (its `<fragment>` root is checked when the engine loads it). */
function resolveFragments(fragments: unknown, fail: (path: string, message: string) => never): Record<string, string> {
  if (fragments === undefined) return {};
  if (typeof fragments !== 'object' || fragments === null || Array.isArray(fragments)) fail('fragments', 'expected an object of fragment id → XML');
  const out: Record<string, string> = {};
  for (const [id, xml] of Object.entries(fragments as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9._-]{1,80}$/.test(id)) fail(`fragments.${id}`, "a fragment id has letters, digits, '.', '-' and '_' only (at most 80)");
    if (typeof xml !== 'string') fail(`fragments.${id}`, 'expected the fragment XML as a string');
    out[id] = xml as string;
  }
  return out;
}

function resolvePolicyEngine(c: PolicyEngineConfig, fail: (path: string, message: string) => never): PolicyEngineConfig {
  const limits = ['expressionTimeBudgetMs', 'pipelineTimeBudgetMs', 'expressionMaxCallDepth', 'expressionMaxStringLength', 'expressionMaxCollectionSize'] as const;
  const known: string[] = ['strict', 'tokenLimitAlgorithm', 'weekStartsOn', 'useStreamedUsage', 'azureOpenAIStreamedCharge', 'maxCustomDimensions', ...limits, 'contentSafetyBlockedMessage', 'contentSafetyBlockedReason'];
  for (const key of Object.keys(c)) if (!known.includes(key)) fail(`policyEngine.${key}`, `unknown setting; expected one of ${known.join(', ')}`);
  for (const key of ['contentSafetyBlockedMessage', 'contentSafetyBlockedReason'] as const) {
    if (c[key] !== undefined && (typeof c[key] !== 'string' || c[key].trim() === '')) fail(`policyEngine.${key}`, 'expected a non-empty string');
  }
  if (c.tokenLimitAlgorithm !== undefined && !['sliding-window', 'token-bucket'].includes(c.tokenLimitAlgorithm)) fail('policyEngine.tokenLimitAlgorithm', "expected 'sliding-window' or 'token-bucket'");
  if (c.weekStartsOn !== undefined && !['monday', 'sunday'].includes(c.weekStartsOn)) fail('policyEngine.weekStartsOn', "expected 'monday' or 'sunday'");
  if (c.azureOpenAIStreamedCharge !== undefined && !['estimate', 'usage'].includes(c.azureOpenAIStreamedCharge)) fail('policyEngine.azureOpenAIStreamedCharge', "expected 'estimate' or 'usage'");
  if (c.maxCustomDimensions !== undefined && !(Number.isInteger(c.maxCustomDimensions) && c.maxCustomDimensions >= 1)) fail('policyEngine.maxCustomDimensions', 'expected a positive integer');
  for (const key of limits) if (c[key] !== undefined && !(typeof c[key] === 'number' && c[key] > 0 && Number.isFinite(c[key]))) fail(`policyEngine.${key}`, 'expected a positive number');
  return c;
}

export function parseSubscriptionScope(text: string, fail: (message: string) => never): ResolvedSubscription['scope'] {
  const t = text.trim().replace(/\/+$/, '');
  if (t === '/apis' || t === '' || t.toLowerCase() === 'all') return { kind: 'all' };
  let m = /^\/apis\/([^/]+)$/.exec(t);
  if (m) return { kind: 'api', apiId: m[1]! };
  m = /^\/products\/([^/]+)$/.exec(t);
  if (m) return { kind: 'product', productId: m[1]! };
  return fail(`'${text}' is not a subscription scope; use '/apis', '/apis/{apiId}' or '/products/{productId}'`);
}

function normalizeApiPath(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

function unique(values: string[], path: string, fail: (path: string, message: string) => never): void {
  const seen = new Set<string>();
  for (const v of values) {
    const k = v.toLowerCase();
    if (seen.has(k)) fail(path, `duplicate '${v}'`);
    seen.add(k);
  }
}

function positiveInteger(value: unknown, path: string, fallback: number, fail: (path: string, message: string) => never): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail(path, `must be a positive integer (got ${JSON.stringify(value)})`);
  return value;
}

/** An OpenAPI 3 document: an object with `openapi` "3.x" and `paths`. */
function openApiDocument(value: unknown, path: string, fail: (path: string, message: string) => never): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail(path, 'an OpenAPI 3 document (a JSON object) is required');
  const doc = value as Record<string, unknown>;
  if (typeof doc.openapi !== 'string' || !doc.openapi.startsWith('3.')) fail(`${path}.openapi`, `only OpenAPI 3.x documents are read, got '${String(doc.openapi)}'`);
  if (doc.paths === null || typeof doc.paths !== 'object') fail(`${path}.paths`, 'an object of paths is required');
  return doc;
}

/** A 'content-safety' backend: its URL (default https://{id}.cognitiveservices.azure.com) and classifier, checked. */
function resolveContentSafetyBackend(b: BackendConfig, i: number, fail: (path: string, message: string) => never): string {
  const url = b.url ?? `https://${b.id.toLowerCase().replace(/[^a-z0-9-]/g, '-')}.cognitiveservices.azure.com`;
  try {
    new URL(url);
  } catch {
    fail(`backends[${i}].url`, `'${url}' is not an absolute URL`);
  }
  const cs = b.contentSafety ?? {};
  const where = `backends[${i}].contentSafety`;
  for (const [category, terms] of Object.entries(cs.categories ?? {})) {
    if (!['Hate', 'SelfHarm', 'Sexual', 'Violence'].includes(category)) fail(`${where}.categories.${category}`, 'expected Hate, SelfHarm, Sexual or Violence');
    if (!Array.isArray(terms)) fail(`${where}.categories.${category}`, 'an array of { term, severity } is required');
    terms!.forEach((t, j) => {
      if (typeof t?.term !== 'string' || t.term.trim() === '') fail(`${where}.categories.${category}[${j}].term`, 'a non-empty string is required');
      if (!Number.isInteger(t.severity) || t.severity < 0 || t.severity > 7) fail(`${where}.categories.${category}[${j}].severity`, 'an integer from 0 to 7 is required');
    });
  }
  for (const [name, terms] of Object.entries(cs.blocklists ?? {})) {
    if (!Array.isArray(terms) || terms.some((t) => typeof t !== 'string' || t.trim() === '')) fail(`${where}.blocklists.${name}`, 'an array of non-empty strings is required');
  }
  if (cs.promptAttacks !== undefined && (!Array.isArray(cs.promptAttacks) || cs.promptAttacks.some((t) => typeof t !== 'string' || t.trim() === ''))) {
    fail(`${where}.promptAttacks`, 'an array of non-empty strings is required');
  }
  if (cs.maxTextLength !== undefined && (!Number.isInteger(cs.maxTextLength) || cs.maxTextLength < 1)) fail(`${where}.maxTextLength`, 'a positive integer is required');
  return url;
}
