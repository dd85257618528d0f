import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI_BIN } from '../support/cli.js';

const CHURN = new URL('../support/heap-churn.mjs', import.meta.url).pathname;

/** The CLI started with `nodeArgs`, a 200,000-object live set and garbage churned once it serves: its peak heapTotal in MB. */
function peakHeapMb(nodeArgs: string[]): Promise<number> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', CHURN, CLI_BIN, 'start', '--port', '0', '--in-memory'], { stdio: 'pipe' });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stdout.resume();
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('exit', () => {
      const m = /PEAK (\d+) 200000/.exec(err);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`no PEAK line: ${err}`));
    });
  });
}

describe('the CLI process bounds V8 heap growth', () => {
  it('grows the old generation by 1.5× what survived the last full GC (heap-growing-percent 50), unless node is given its own --heap-growing-percent', async () => {
    const [bounded, explicit] = await Promise.all([peakHeapMb([]), peakHeapMb(['--heap-growing-percent=300'])]);
    // Measured: 98–100 MB bounded, 151–176 MB with 300 (4×, V8's dynamic maximum), for a ~40 MB live heap.
    expect(bounded).toBeLessThan(explicit * 0.8);
  }, 120_000);
});
