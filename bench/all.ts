/**
 * Every benchmark scenario in turn, into one bench/results/<timestamp>/ directory, then an index (README.md)
 * linking the reports. Each scenario prints its own progress bar.
 * Run: npm run bench [-- --quick]   (--quick: shorter runs, fewer repetitions; for a smoke check, not for numbers)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo } from './lib/measure.js';
import { machineHeader, resultsDir, writeText } from './lib/report.js';

const quick = process.argv.includes('--quick');
const dir = resultsDir();
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const info = machineInfo();
const SCENARIOS: Array<[string, string, string[]]> = [
  ['overhead', 'overhead.ts', quick ? ['--duration', '1', '--reps', '1', '--latency-seconds', '1'] : []],
  ['emit-metric', 'overhead.ts', ['--scenario', 'emit-metric', '--targets', 'emulator-noemit,emulator-metrics', '--connections', '16,50', '--latency-seconds', '0', ...(quick ? ['--duration', '1', '--reps', '1'] : [])]],
  ['policy-steps', 'overhead.ts', ['--scenario', 'policy-steps', '--targets', 'emulator-steps-1,emulator-steps-10,emulator-steps-50', '--connections', '16', '--latency-seconds', '0', ...(quick ? ['--duration', '1', '--reps', '1'] : [])]],
  ['limit-accuracy', 'limit-accuracy.ts', quick ? ['--tpm', '1000', '--connections', '1,16', '--max-seconds', '2'] : []],
  // TPM 100k needs a low scale (the offered load must exceed the limit): fewer scenarios, longer runs.
  ['limit-accuracy-100k', 'limit-accuracy.ts', ['--name', 'limit-accuracy-100k', '--tpm', '100000', '--connections', '16,128', '--estimate', 'on', '--stream', 'off', '--assumed-rps', '250', '--windows', '2', ...(quick ? ['--max-seconds', '2'] : ['--max-seconds', '40'])]],
  // Retry-After is whole wall seconds: a scale of 10 (a window is 6 s) keeps its rounding small against the wait.
  ['limit-retry-after', 'limit-accuracy.ts', ['--name', 'limit-retry-after', '--tpm', '1000', '--connections', '1,16', '--estimate', 'on', '--stream', 'off', '--scale', '10', '--probe', 'on', ...(quick ? ['--max-seconds', '3'] : ['--max-seconds', '24'])]],
  ['kql-cost', 'kql-cost.ts', quick ? ['--sizes', '10000', '--reps', '1'] : []],
  ['footprint', 'footprint.ts', quick ? ['--runs', '1', '--minutes', '0.25'] : []],
];
const done: string[] = [];
for (const [name, script, extra] of SCENARIOS) {
  process.stderr.write(`\n== ${name}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', here(script), ...extra, '--out', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) process.stderr.write(`${name} failed (exit ${r.status})\n`);
  else done.push(name);
}
const index = [
  `# Benchmark results`,
  '',
  machineHeader(info),
  quick ? '\n**Quick mode: smoke check only, not for numbers.**' : '',
  '',
  ...done.filter((n) => existsSync(join(dir, `${n}.md`))).map((n) => readFileSync(join(dir, `${n}.md`), 'utf8').replace(/^# /, '## ').replace(/\n#/g, '\n##')),
].join('\n');
writeText(dir, 'README.md', index);
process.stdout.write(`Reports: ${dir}\n`);
