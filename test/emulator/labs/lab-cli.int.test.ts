import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'bin/ai-gateway-emulator.js');
const run = promisify(execFile);

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
  );
}

describe('ai-gateway-emulator lab (child process)', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('lab token-rate-limiting --out <dir>: exit 0, the notebook’s lines on stdout, no progress bar off a terminal, both plot files', async () => {
    const { code, stdout, stderr } = await cli(['lab', 'token-rate-limiting', '--out', outDir]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines.filter((l) => /^✅ Deployment 'token-rate-limiting' succeeded ⌚ \d\d:\d\d:\d\d\.\d{6} \[0m:0s\]$/.test(l))).toHaveLength(1);
    expect(lines).toContain('▶️ Run:  1 status code:  200 ✅');
    expect(lines).toContain('▶️ Run:  30 status code:  429 ⛔');
    expect(lines.filter((l) => /^▶️ Run: {2}\d+$/.test(l))).toHaveLength(10);
    expect(lines.some((l) => /^Lab token-rate-limiting replayed in \d+\.\d s \(\d+\.\d s of virtual time\); plots in /.test(l))).toBe(true);
    expect(stdout).not.toContain('\x1b['); // no colours when stdout is not a terminal
    for (const ext of ['svg', 'png']) expect(existsSync(join(outDir, `rate-limiting-results.${ext}`))).toBe(true);
    expect(readFileSync(join(outDir, 'rate-limiting-results.png')).subarray(0, 4).toString('latin1')).toBe('\x89PNG');
    expect(readFileSync(join(outDir, 'rate-limiting-results.svg'), 'utf8')).toContain('Status:429');
  }, 60_000);

  it('an unknown lab: exit 2 and one line naming the labs', async () => {
    const { code, stdout, stderr } = await cli(['lab', 'token-quota']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe("Unknown lab 'token-quota'. Labs: token-rate-limiting, token-metrics-emitting.\n");
  }, 60_000);
});
