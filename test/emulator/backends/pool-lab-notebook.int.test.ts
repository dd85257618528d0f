import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON } from '../../support/process.js';
import { startCli, stopCli, type StartedCli } from '../../support/cli.js';

const BIN_DIR = new URL('../../../bin', import.meta.url).pathname;
const FIXTURES = new URL('../../fixtures/labs', import.meta.url).pathname;


describe.skipIf(!PYTHON)(`backend-pool-load-balancing notebook cells against the real CLI and az stand-in (${PYTHON ?? 'python3 missing'})`, () => {
  let dir: string;
  let emulator: StartedCli;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aigw-pool-'));
    cpSync(join(FIXTURES, 'shared'), join(dir, 'labs', 'shared'), { recursive: true });
    cpSync(join(FIXTURES, 'backend-pool-load-balancing'), join(dir, 'labs', 'backend-pool-load-balancing'), { recursive: true });
    emulator = await startCli(['--data', join(dir, 'data'), '--in-memory', '--quiet']);
  }, 30_000);
  afterAll(async () => {
    await stopCli(emulator?.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys the pool with its breakers; the regions change as each priority throttles (6 RPM per backend)', async () => {
    const env = { ...process.env, PATH: `${BIN_DIR}${delimiter}${process.env.PATH ?? ''}`, AI_GATEWAY_EMULATOR_URL: emulator.url, PYTHONIOENCODING: 'utf-8' };
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('python3', ['notebook.py'], { cwd: join(dir, 'labs', 'backend-pool-load-balancing'), env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, r.stdout + r.stderr).toBeDefined();
    const result = JSON.parse(line!.slice('RESULT '.length)) as { deployed: boolean; statuses: Array<[number, string]>; regions: string[]; colors: string[]; failedCommands: string[] };
    expect(result.deployed).toBe(true);
    expect(result.failedCommands).toEqual(['az group show --name lab-backend-pool-load-balancing']);
    expect(result.statuses).toEqual(Array(20).fill([200, 'OK']));
    expect(result.regions.slice(0, 6)).toEqual(Array(6).fill('East US'));
    const second = result.regions.slice(6, 18);
    expect([second.filter((x) => x === 'Sweden Central').length, second.filter((x) => x === 'West US').length]).toEqual([6, 6]);
    expect(result.regions.slice(18)).toEqual(['UK South', 'UK South']);
    // The plot colours the unmatched region grey, as on Azure.
    expect(result.colors.slice(18)).toEqual(['gray', 'gray']);
  }, 60_000);
});
