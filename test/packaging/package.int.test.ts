/**
 * The installable package as a new user gets it: `npm pack` (prepack builds dist/), the tarball installed into an
 * empty project, then the CLI through npx, the testing API from plain Node ESM (no tsx, no vitest), the az
 * stand-in the CLI points at, and one of the shipped examples under vitest. Slow (npm install builds
 * better-sqlite3 from source here): one install shared by every case.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const INSTALL_TIMEOUT = 540_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeout = INSTALL_TIMEOUT): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The environment of a consumer's shell: none of this checkout's npm/vitest variables. */
function consumerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|VITEST|NODE_OPTIONS$|INIT_CWD$|TSX)/i.test(k)) env[k] = v;
  return env;
}

let work: string;
let project: string;
let tarball: string;
const env = consumerEnv();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'age-package-'));
  const pack = await run('npm', ['pack', '--json', '--pack-destination', work], ROOT, env);
  expect(pack.code, pack.stderr).toBe(0);
  const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as [{ filename: string }];
  tarball = join(work, packed.filename);
  project = join(work, 'consumer');
  cpSync(join(ROOT, 'test/packaging/fixtures/consumer'), project, { recursive: true });
  const vitestVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules/vitest/package.json'), 'utf8')) as { version: string }).version;
  const install = await run('npm', ['install', '--no-audit', '--no-fund', tarball, `vitest@${vitestVersion}`], project, env);
  expect(install.code, install.stdout + install.stderr).toBe(0);
}, INSTALL_TIMEOUT + 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds compiled JavaScript with declarations for every export, and no TypeScript sources', () => {
    const installed = join(project, 'node_modules/ai-gateway-emulator');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; import: string }>;
      bin: Record<string, string>;
    };
    for (const [entry, target] of Object.entries(manifest.exports)) {
      expect(existsSync(join(installed, target.import)), `${entry} → ${target.import}`).toBe(true);
      expect(existsSync(join(installed, target.types)), `${entry} → ${target.types}`).toBe(true);
    }
    expect(existsSync(join(installed, manifest.bin['ai-gateway-emulator']!))).toBe(true);
    expect(existsSync(join(installed, 'emulator/main.ts'))).toBe(false);
    expect(existsSync(join(installed, 'dist/emulator/main.ts'))).toBe(false);
    // tsx is a dev dependency now: a consumer's install does not bring it.
    expect(existsSync(join(project, 'node_modules/tsx'))).toBe(false);
  });

  it('npx ai-gateway-emulator start serves the gateway (200 from a chat completion), and its az stand-in answers', async () => {
    const child = spawn('npx', ['ai-gateway-emulator', 'start', '--port', '0', '--in-memory'], { cwd: project, env, stdio: 'pipe' }) as ChildProcessWithoutNullStreams;
    try {
      const banner = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 30_000);
        child.stdout.on('data', (chunk) => {
          out += chunk;
          if (out.includes('Control plane') && out.includes('az stand-in')) {
            clearTimeout(timer);
            resolve(out);
          }
        });
        child.stderr.on('data', (chunk) => (out += chunk));
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const url = /listening on (http:\/\/\S+)/.exec(banner)![1]!;
      const key = /subscription1 .*primary (\w+)/.exec(banner)![1]!;
      const res = await fetch(`${url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`, {
        method: 'POST',
        headers: { 'api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { object: string }).object).toBe('chat.completion');

      const azDir = /export PATH="([^"]+):\$PATH"/.exec(banner)![1]!;
      expect(azDir).toBe(join(project, 'node_modules/ai-gateway-emulator/dist/bin'));
      const az = await run(join(azDir, 'az'), ['account', 'show', '--query', 'user.name', '-o', 'tsv'], project, { ...env, AI_GATEWAY_EMULATOR_URL: url }, 30_000);
      expect(az.stderr).toBe('');
      expect(az.code).toBe(0);
      expect(az.stdout.trim().length).toBeGreaterThan(0);
    } finally {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
  }, 60_000);

  it('ai-gateway-emulator/testing imports from a plain Node ESM script, which starts, calls and stops an emulator', async () => {
    const result = await run(process.execPath, ['plain-node.mjs'], project, env, 60_000);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ status: 200, totalTokens: 100, refusedAfter: 429, closed: true });
  }, 60_000);

  it("the Dockerfile's ENTRYPOINT + CMD start the installed package (port 0 for 8080, a temp dir for /data) and its HEALTHCHECK passes", async () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const instruction = (name: string) => JSON.parse(new RegExp(`^${name} (\\[.*\\])$`, 'm').exec(dockerfile.replace(/\\\n\s*/g, ''))![1]!) as string[];
    const dataDir = join(work, 'docker-data');
    // The container's paths and port become this machine's; its 0.0.0.0 becomes loopback (tests serve nothing else).
    const translate = (arg: string) => arg.replace('/app/', `${project}/`).replace(/^\/data$/, dataDir).replace(/^8080$/, '0').replace(/^0\.0\.0\.0$/, '127.0.0.1');
    const [entry, ...entryArgs] = [...instruction('ENTRYPOINT'), ...instruction('CMD')].map(translate);
    expect(entry).toBe('node');
    const child = spawn(process.execPath, entryArgs, { cwd: project, env, stdio: 'pipe' }) as ChildProcessWithoutNullStreams;
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 30_000);
        child.stdout.on('data', (chunk) => {
          out += chunk;
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m && out.includes('Control plane')) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.stderr.on('data', (chunk) => (out += chunk));
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      expect(url.startsWith('http://127.0.0.1:')).toBe(true);
      const port = new URL(url).port;
      const [, ...healthArgs] = instruction('HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD').map((a) => a.replace('127.0.0.1:8080', `127.0.0.1:${port}`));
      const health = await run(process.execPath, healthArgs, project, env, 10_000);
      expect(health.code, health.stderr).toBe(0);
      expect(existsSync(join(dataDir, 'telemetry.db'))).toBe(true);
    } finally {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
  }, 60_000);

  it('a shipped example runs under vitest in the consumer project', async () => {
    cpSync(join(project, 'node_modules/ai-gateway-emulator/examples/token-limit-429.test.ts'), join(project, 'token-limit-429.test.ts'));
    const result = await run(join(project, 'node_modules/.bin/vitest'), ['run', 'token-limit-429.test.ts'], project, { ...env, NO_COLOR: '1', FORCE_COLOR: '0' }, 120_000);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout.replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/Tests\s+2 passed \(2\)/);
  }, 120_000);
});
