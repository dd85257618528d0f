/**
 * Harness start-up cost: startEmulator({ preset }) + close() in a warm process (issue: < 100 ms).
 * Run: npm run bench:startup
 */
import { startEmulator } from '../emulator/testing/index.js';

const runs = Number(process.argv[2] ?? 50);
for (const preset of ['token-rate-limiting', 'token-metrics-emitting']) {
  await (await startEmulator({ preset })).close(); // warm-up: module loading, JIT
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const gw = await startEmulator({ preset });
    await gw.close();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!.toFixed(2);
  console.log(`${preset}: start+close over ${runs} runs — median ${pct(50)} ms, p90 ${pct(90)} ms, max ${times[times.length - 1]!.toFixed(2)} ms`);
}
