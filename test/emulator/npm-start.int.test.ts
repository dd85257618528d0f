import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parentPidOf } from '../../emulator/npm-parent.js';

/**
 * `npm start` runs npm → `sh -c` → node. Killing the npm PID — even with SIGKILL, which npm cannot pass on — or the
 * shell between must not leave the node child holding the port (real processes, real signals).
 */
const ROOT = new URL('../..', import.meta.url).pathname;
const HAS_PROC = existsSync('/proc/self/stat');
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const dirs: string[] = [];
const started: ChildProcess[] = [];
const leftovers: number[] = []; // sh and node below each npm: killed here if a test failed to see them exit
afterAll(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** Every live descendant of `pid` (from /proc). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentPidOf(Number(name));
    if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const visit = (p: number) => (children.get(p) ?? []).forEach((c) => (out.push(c), visit(c)));
  visit(pid);
  return out;
}

async function until(what: string, probe: () => boolean | Promise<boolean>, deadlineMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - started;
    if (performance.now() - started > deadlineMs) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `npm start -- --port 0 …` until the banner: the URL, and the processes below npm (sh, node). */
async function npmStart(): Promise<{ npm: ChildProcess; url: string; below: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-npm-start-'));
  dirs.push(dir);
  const npm = spawn('npm', ['start', '--silent', '--', '--port', '0', '--data', join(dir, 'data'), '--quiet'], { cwd: ROOT, stdio: 'pipe' });
  started.push(npm);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`npm start did not start: ${out}`)), 45_000);
    npm.stdout!.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m && out.includes('Control plane')) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    npm.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${out}`)));
  });
  expect((await fetch(`${url}/_emulator/health`)).status).toBe(200);
  const below = descendants(npm.pid!);
  leftovers.push(...below);
  return { npm, url, below };
}

const refused = (url: string) => fetch(`${url}/_emulator/health`).then(() => false, () => true);

describe.skipIf(!HAS_PROC)('stopping `npm start` frees the port (needs /proc)', () => {
  it('SIGKILL to the npm PID: the node child notices within a second, shuts down and frees the port; sh and node exit', async () => {
    const { npm, url, below } = await npmStart();
    expect(below.length).toBeGreaterThanOrEqual(1); // sh -c and node (or node alone where the shell execs)
    npm.kill('SIGKILL');
    await new Promise((r) => npm.once('exit', r));
    const ms = await until('the port to be free', () => refused(url), 10_000);
    await until('sh and node to exit', () => below.every((p) => !alive(p)), 10_000);
    console.log(`npm SIGKILLed: port free after ${ms.toFixed(0)} ms; ${below.length} processes below npm exited`);
  }, 90_000);

  it('SIGKILL to the shell between npm and node: node shuts down too', async () => {
    const { npm, url, below } = await npmStart();
    const shell = below.find((p) => parentPidOf(p) === npm.pid && descendants(p).length > 0);
    expect(shell, 'npm runs scripts through sh -c').toBeDefined();
    process.kill(shell!, 'SIGKILL');
    await until('the port to be free', () => refused(url), 10_000);
    await until('node to exit', () => below.every((p) => !alive(p)), 10_000);
    npm.kill('SIGTERM');
  }, 90_000);
});
