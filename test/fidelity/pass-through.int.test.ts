import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../emulator/config/load.js';
import { startEmulator } from '../../emulator/testing/start-emulator.js';
import { apiPolicy, httpBackendConfig } from '../support/configs.js';
import { labPost } from '../support/lab.js';
import { startScriptedBackend, type ScriptedBackend } from '../support/scripted-backend.js';

/** A backend pointing at a real model endpoint (here a stand-in server) meters it with the same policies. */
describe('pass-through backends (a real Azure OpenAI or OpenAI-compatible endpoint)', () => {
  const SECRET = 'sk-test-0123456789';
  let model: ScriptedBackend;
  beforeAll(async () => {
    model = await startScriptedBackend();
    process.env.AIGW_TEST_MODEL_KEY = SECRET;
  });
  afterAll(async () => {
    delete process.env.AIGW_TEST_MODEL_KEY;
    await model.close();
  });

  const config = () => {
    const c = httpBackendConfig(model.url, apiPolicy(`<llm-token-limit counter-key="k" tokens-per-minute="100" estimate-prompt-tokens="false" />`));
    c.backends![0]!.credentials = { headersFromEnv: { 'api-key': 'AIGW_TEST_MODEL_KEY' } };
    return c;
  };

  it('sends the key from the environment variable instead of the subscription key, and the token limit meters the real usage', async () => {
    const gw = await startEmulator({ config: config() });
    try {
      const key = gw.keyFor('subscription1');
      model.queue({ prompt: 40, completion: 30 }, { prompt: 40, completion: 30 });
      expect((await labPost(gw.url, key)).status).toBe(200);
      expect((await labPost(gw.url, key)).status).toBe(200);
      expect((await labPost(gw.url, key)).status).toBe(429); // 140 ≥ 100 from the model's own usage
      expect(model.received).toHaveLength(2);
      for (const r of model.received) expect(r.headers['api-key']).toBe(SECRET);
    } finally {
      await gw.close();
    }
  });

  it('a missing variable is a configuration error that names the variable, never a value', () => {
    delete process.env.AIGW_TEST_MODEL_KEY;
    try {
      expect(() => resolveConfig(config())).toThrow(ConfigError);
      expect(() => resolveConfig(config())).toThrow('backends[0].credentials.headersFromEnv.api-key: environment variable AIGW_TEST_MODEL_KEY is not set');
    } finally {
      process.env.AIGW_TEST_MODEL_KEY = SECRET;
    }
  });
});
