import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/app.js';
import { presetConfig } from '../../emulator/config/presets.js';
import type { EmulatorConfig } from '../../emulator/config/schema.js';
import { warmUp } from '../../emulator/warm-up.js';

let emulator: Emulator | undefined;
let server: Server | undefined;
afterEach(async () => {
  await emulator?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  emulator = server = undefined;
});

describe('start-up warm-up', () => {
  it('leaves the emulator as it was: no telemetry rows, no mock calls, no counted tokens', async () => {
    const config = presetConfig('token-rate-limiting');
    emulator = createEmulator({ config });
    await warmUp(emulator, config);
    await emulator.telemetry.flush();
    expect(Object.values(emulator.telemetry.counts()).reduce((a, b) => a + b, 0)).toBe(0);
    expect([...emulator.mocks.values()].flatMap((m) => m.calls)).toEqual([]);
    // The lab's limit (100 TPM, two calls) is untouched: a warm-up that charged the real counters would refuse the 1st or 2nd call.
    const { url } = await emulator.listen();
    const key = emulator.config.subscriptions[0]!.primaryKey;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2024-10-21`, {
        method: 'POST',
        headers: { 'api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'system', content: 'You are a sarcastic, unhelpful assistant.' }, { role: 'user', content: 'Can you tell me the time, please?' }] }),
      });
      await r.arrayBuffer();
      statuses.push(r.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('sends nothing when a backend is a real HTTP endpoint', async () => {
    let received = 0;
    server = createServer((_req, res) => {
      received++;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const config: EmulatorConfig = presetConfig('token-rate-limiting');
    // The lab policy's backend becomes the HTTP server; a mock backend stays configured beside it.
    const mock = config.backends![0]!;
    config.backends = [{ id: mock.id, type: 'http', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/openai` }, { ...mock, id: 'other-models' }];
    emulator = createEmulator({ config });
    await warmUp(emulator, config);
    expect(received).toBe(0);
  });
});
