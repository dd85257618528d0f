import { request } from 'node:http';
import { deploymentEncoding, encodingForModel, preloadEncodings, type EncodingName } from '../mock-models/index.js';
import { createEmulator, type Emulator } from './app.js';
import type { EmulatorConfig } from './config/schema.js';

/** Requests the twin answers per API before the banner: enough for V8 to compile the request path. */
const TWIN_REQUESTS_PER_API = 8;

/**
 * Makes the first request as fast as the tenth, before the banner says the emulator is ready:
 * 1. loads the tokenizer encodings the configured deployments use (o200k alone for the labs; each costs 0.1–0.35 s,
 *    so the others load at their first use) and runs one chat call through each of the emulator's mock models (reset after);
 * 2. starts a twin of the emulator (same configuration; its own in-memory counters, telemetry and mocks) on a
 *    loopback port and sends it the seed labs' chat request over new connections, as a notebook does, so the
 *    gateway, policies, telemetry writes and the HTTP stack run compiled code. The twin is closed; nothing it
 *    counted or recorded is kept. Skipped when a backend is a real HTTP endpoint or a policy sends requests of its
 *    own: warming up must never send traffic anywhere. Not in a cluster worker (`twin: false`): there listen(0)
 *    shares one handle with the other workers, whose gateways would answer the twin's requests.
 */
export async function warmUp(emulator: Emulator, config: EmulatorConfig, options: { twin?: boolean } = {}): Promise<void> {
  preloadEncodings(configuredEncodings(emulator.config));
  for (const [id, mock] of emulator.mocks) {
    const backend = emulator.config.backends.find((b) => b.id === id);
    const deployment = backend?.deployments?.[0];
    if (!backend || !deployment) continue;
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'warm-up' }] });
    const response = await mock.handle(new Request(`${backend.url}/deployments/${deployment.name}/chat/completions?api-version=2024-10-21`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
    await response.arrayBuffer();
    mock.reset();
  }
  if (options.twin === false || twinWouldSendTraffic(emulator)) return;
  await warmUpTwin(config);
}

/** The mock models' encodings and those the gateway's token estimator picks by model name; o200k (the default) if none. */
function configuredEncodings(config: Emulator['config']): EncodingName[] {
  const names = new Set<EncodingName>();
  for (const d of config.backends.flatMap((b) => b.deployments ?? [])) {
    names.add(deploymentEncoding(d));
    names.add(encodingForModel(d.model));
  }
  return names.size ? [...names] : ['o200k_base'];
}

function twinWouldSendTraffic(emulator: Emulator): boolean {
  const { backends, apis, products, globalPolicy } = emulator.config;
  if (backends.some((b) => b.type === 'http')) return true;
  const policies = [globalPolicy, ...products.map((p) => p.policy), ...apis.flatMap((a) => [a.policy, ...a.operations.map((o) => o.policy)])];
  return policies.some((xml) => xml !== undefined && /<send-(one-way-)?request\b|<log-to-eventhub\b/.test(xml));
}

async function warmUpTwin(config: EmulatorConfig): Promise<void> {
  let twin: Emulator;
  try {
    twin = createEmulator({ config });
  } catch {
    return; // the real emulator loaded this configuration; a twin that cannot is not worth a start-up error
  }
  try {
    const { url } = await twin.listen(0, '127.0.0.1');
    const deployment = twin.config.backends.find((b) => b.type === 'mock' && b.deployments?.length)?.deployments?.[0]?.name;
    if (!deployment) return;
    const body = JSON.stringify({ messages: [{ role: 'system', content: 'You are a sarcastic, unhelpful assistant.' }, { role: 'user', content: 'Can you tell me the time, please?' }] });
    for (const api of twin.config.apis) {
      if (api.type !== 'azure-openai') continue;
      const key = twin.config.subscriptions.find((s) => s.state === 'active' && (s.scope.kind === 'all' || (s.scope.kind === 'api' && s.scope.apiId === api.id)))?.primaryKey;
      // An azure-openai API's path usually ends in /openai (the labs' 'inference/openai'); the operations follow it.
      const base = [url, api.path, /(^|\/)openai$/.test(api.path) ? '' : 'openai'].filter(Boolean).join('/');
      const path = `${base}/deployments/${deployment}/chat/completions?api-version=2024-10-21`;
      for (let i = 0; i < TWIN_REQUESTS_PER_API; i++) await post(path, body, key === undefined ? {} : { [api.headerName]: key });
    }
    await twin.settled();
  } finally {
    await twin.close();
  }
}

function post(url: string, body: string, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      res.resume().on('end', resolve).on('error', () => resolve());
    });
    req.on('error', () => resolve());
    req.end(body);
  });
}
