/**
 * Limit accuracy under load: tokens admitted per emulated minute vs the configured tokens-per-minute, at
 * several concurrency levels. APIM counts only completed responses, so concurrent requests overshoot; this
 * measures by how much. A time-scaled clock compresses minutes (the ratio does not depend on the scale).
 * Run: npm run bench:limits -- [--tpm 5000] [--scale 30] [--seconds 6]
 */
import autocannon from 'autocannon';
import { createClock } from '../policy-engine/index.js';
import { createEmulator } from '../emulator/app.js';
import { presetConfig } from '../emulator/config/presets.js';
import { LAB_MESSAGES } from '../test/support/lab.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const tpm = Number(args.get('tpm') ?? 5000);
const scale = Number(args.get('scale') ?? 30);
const seconds = Number(args.get('seconds') ?? 6);

const policy = (algorithm: string) => `<policies><inbound><base /><set-backend-service backend-id="foundry1" />
  <llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="${tpm}" estimate-prompt-tokens="false" />
</inbound></policies><!-- ${algorithm} -->`;

async function measure(connections: number, algorithm: 'sliding-window' | 'token-bucket') {
  const config = presetConfig('token-rate-limiting');
  config.apis[0]!.policy = policy(algorithm);
  config.backends![0]!.deployments![0]!.capacity = undefined; // no backend throttling
  const clock = createClock({ mode: 'system', timeScale: scale });
  const emulator = createEmulator({ config, clock, engineOptions: { tokenLimitAlgorithm: algorithm } });
  const { url } = await emulator.listen(0);
  const key = emulator.config.subscriptions[0]!.primaryKey;
  let admittedTokens = 0;
  let admitted = 0;
  let refused = 0;
  const startEmu = clock.now();
  await autocannon({
    url: `${url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: LAB_MESSAGES }),
        onResponse: (status: number, body: string) => {
          if (status === 200) {
            admitted++;
            admittedTokens += JSON.parse(body).usage.total_tokens as number;
          } else refused++;
        },
      },
    ],
  });
  const minutes = (clock.now() - startEmu) / 60_000;
  await emulator.close();
  return { algorithm, connections, minutes: Number(minutes.toFixed(2)), admitted, refused, tokensPerMinute: Math.round(admittedTokens / minutes), ratio: Number((admittedTokens / minutes / tpm).toFixed(3)) };
}

const rows = [];
for (const algorithm of ['sliding-window', 'token-bucket'] as const) {
  for (const connections of [1, 10, 50]) rows.push(await measure(connections, algorithm));
}
console.log(`configured tokens-per-minute: ${tpm}; time scale ${scale}x; ${seconds} s wall per run`);
console.table(rows);
