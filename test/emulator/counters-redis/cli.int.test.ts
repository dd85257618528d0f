/**
 * `start --counters redis://…` as real child processes: two gateways of one group share the preset's 100 TPM
 * limit (shared topology) or count alone (per-gateway). Runs when REDIS_URL is set.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, stopCli, type StartedCli } from '../../support/cli.js';

const REDIS_URL = process.env.REDIS_URL;
const started: StartedCli[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => stopCli(c.child)));
});

async function gateway(args: string[]): Promise<StartedCli & { key: string }> {
  const cli = await startCli(['--in-memory', '--quiet', ...args], { ready: 'Identity:' });
  started.push(cli);
  return { ...cli, key: /subscription1 .*primary (\w+)/.exec(cli.banner)![1]! };
}

async function chat(gw: { url: string; key: string }): Promise<number> {
  const res = await fetch(`${gw.url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`, {
    method: 'POST',
    headers: { 'api-key': gw.key, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello there, how are you today? Tell me a long story.' }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Spends gateway A's minute (100 TPM preset) until it refuses; then asks gateway B once. */
async function exhaustThenAskOther(a: { url: string; key: string }, b: { url: string; key: string }): Promise<number> {
  let status = 200;
  for (let i = 0; i < 50 && status === 200; i++) status = await chat(a);
  expect(status).toBe(429);
  return chat(b);
}

describe.skipIf(!REDIS_URL)(`start --counters redis:// (${REDIS_URL ? REDIS_URL : 'skipped: REDIS_URL unset; .ci/run starts redis-server and sets it'})`, () => {
  it('shared topology: a gateway refuses once the other spent the subscription minute; the banner names the store', async () => {
    const group = `cli-${process.pid}-shared`;
    const a = await gateway(['--counters', REDIS_URL!, '--counters-group', group]);
    const b = await gateway(['--counters', REDIS_URL!, '--counters-group', group]);
    expect(a.banner).toContain(`Counters: Redis ${REDIS_URL} (shared by group '${group}', fail-open, 250 ms timeout)`);
    expect(await exhaustThenAskOther(a, b)).toBe(429);
  });

  it('per-gateway topology (APIM): the other gateway still admits the same subscription', async () => {
    const group = `cli-${process.pid}-per`;
    const a = await gateway(['--counters', REDIS_URL!, '--counters-group', group, '--counters-topology', 'per-gateway', '--gateway-name', 'a']);
    const b = await gateway(['--counters', REDIS_URL!, '--counters-group', group, '--counters-topology', 'per-gateway', '--gateway-name', 'b']);
    expect(b.banner).toContain(`per gateway 'b' in group '${group}'`);
    expect(await exhaustThenAskOther(a, b)).toBe(200);
  });
});

describe('start --counters with something else than a Redis URL', () => {
  it('exits with status 2 and names the flag', async () => {
    const error = await startCli(['--in-memory', '--counters', 'http://127.0.0.1:6379']).then(
      (cli) => (started.push(cli), undefined),
      (e: Error & { code?: number; stderr?: string }) => e,
    );
    expect(error?.code).toBe(2);
    expect(error?.stderr).toContain("--counters: 'http://127.0.0.1:6379' is not a Redis URL; expected redis://host:port");
  });
});
