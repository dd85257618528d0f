import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TELEMETRY_FILE } from '../../emulator/app-insights/sqlite-store.js';
import { wellKnownSubscriptionKey } from '../../emulator/config/load.js';
import { CLI_BIN, startCli, stopCli } from '../support/cli.js';
import { chatUrl, LAB_MESSAGES } from '../support/lab.js';

/** Faults with real processes and files: SIGKILL mid-ingestion, read-only and full data directories, corrupt file. */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-durability-'));
  chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
}

const KEY = wellKnownSubscriptionKey('subscription1', 'primary');
const chat = (url: string) =>
  fetch(chatUrl(url), { method: 'POST', headers: { 'api-key': KEY, 'content-type': 'application/json' }, body: JSON.stringify({ messages: LAB_MESSAGES }) });

/** Runs the CLI to its exit (it is expected to refuse to start). */
function runCli(args: string[], options: { uid?: number } = {}) {
  const r = spawnSync(process.execPath, [CLI_BIN, '--port', '0', '--quiet', ...args], { encoding: 'utf8', timeout: 30_000, cwd: tmpdir(), ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The documented flush interval (sqlite-store DEFAULT_FLUSH_INTERVAL_MS) and the scheduling slack allowed on a shared 2-core machine. */
const FLUSH_INTERVAL_MS = 25;
const SCHEDULING_SLACK_MS = 250;

describe('durability and faults (real CLI processes, real files)', () => {
  it('SIGKILL during sustained ingestion: the database passes integrity_check and keeps every row acknowledged before the flush interval', async () => {
    const dir = tempDir();
    const data = join(dir, 'data');
    const { child, url } = await startCli(['--data', data, '--quiet', '--preset', 'token-metrics-emitting']);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const acked: Array<{ id: string; at: number }> = [];
    let killedAt = Infinity;
    const worker = async () => {
      while (performance.now() < killedAt) {
        try {
          const res = await chat(url);
          await res.arrayBuffer();
          const at = performance.now();
          const id = res.headers.get('apim-request-id');
          if (id && at < killedAt) acked.push({ id, at });
        } catch {
          return; // the process is gone
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    await new Promise((r) => setTimeout(r, 1500));
    killedAt = performance.now();
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    await Promise.all(workers);
    expect(acked.length).toBeGreaterThan(100);

    const db = new Database(join(data, TELEMETRY_FILE));
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const stored = new Set((db.prepare('SELECT id FROM requests').all() as Array<{ id: string }>).map((r) => r.id));
      const lost = acked.filter((a) => !stored.has(a.id));
      const oldestLostAge = lost.length ? Math.max(...lost.map((a) => killedAt - a.at)) : 0;
      console.log(`SIGKILL after 1.5 s: ${acked.length} acknowledged, ${stored.size} rows stored, ${lost.length} lost (oldest ${oldestLostAge.toFixed(1)} ms before the kill)`);
      expect(oldestLostAge).toBeLessThan(FLUSH_INTERVAL_MS + SCHEDULING_SLACK_MS);
      // The metric rows of the stored requests are there too.
      expect((db.prepare('SELECT count(*) AS n FROM customMetrics').get() as { n: number }).n).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  }, 60_000);

  it('a read-only data directory: one clear start-up error (exit 2) naming the directory and the way out', () => {
    const dir = tempDir();
    const data = join(dir, 'readonly');
    mkdirSync(data);
    chmodSync(data, 0o555);
    // root ignores directory permissions: run the CLI as nobody then.
    const r = runCli(['--data', data], process.getuid?.() === 0 ? { uid: 65534 } : {});
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(`The data directory ${data} is not writable (EACCES): telemetry cannot be stored in ${join(data, TELEMETRY_FILE)}. Start with --data <a writable directory>, or --in-memory.`);
    expect(readdirSync(data)).toEqual([]);
  }, 60_000);

  it('a corrupt telemetry.db: a clear start-up error, nothing deleted; --recover-telemetry moves it aside with a timestamp and starts fresh', async () => {
    const dir = tempDir();
    const data = join(dir, 'data');
    mkdirSync(data);
    const garbage = Buffer.from('this is not an SQLite database, it was overwritten by something else '.repeat(200));
    writeFileSync(join(data, TELEMETRY_FILE), garbage);
    const refused = runCli(['--data', data]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`The telemetry database ${join(data, TELEMETRY_FILE)} is corrupt (SQLITE_NOTADB`);
    expect(refused.stderr).toContain('Nothing was deleted. Start with --data <another directory>, or move the file aside and start fresh: --recover-telemetry');
    expect(readFileSync(join(data, TELEMETRY_FILE)).equals(garbage)).toBe(true);

    const { child, url, banner } = await startCli(['--data', data, '--recover-telemetry']);
    try {
      const moved = readdirSync(data).filter((f) => f.startsWith(`${TELEMETRY_FILE}.corrupt-`));
      expect(moved).toHaveLength(1);
      expect(moved[0]).toMatch(/^telemetry\.db\.corrupt-\d{8}T\d{6}Z$/);
      expect(readFileSync(join(data, moved[0]!)).equals(garbage)).toBe(true);
      expect(banner).toContain(`warning: telemetry: the corrupt database was moved to ${join(data, moved[0]!)}; starting with an empty one`);
      expect((await chat(url)).status).toBe(200);
    } finally {
      await stopCli(child);
    }
    const db = new Database(join(data, TELEMETRY_FILE), { readonly: true });
    expect((db.prepare('SELECT count(*) AS n FROM requests').get() as { n: number }).n).toBe(1);
    db.close();
  }, 60_000);

  it('a full store at run time (--telemetry-max-mb): requests keep being served, failures are logged and counted in /_emulator/health', async () => {
    const dir = tempDir();
    const { child, url } = await startCli(['--data', join(dir, 'data'), '--telemetry-max-mb', '0.15', '--preset', 'token-metrics-emitting']);
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 150; i++) statuses.push((await chat(url)).status);
      // The preset's mock deployment answers 429 past its capacity; nothing else, and never a 5xx.
      expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
      // Let the background flush run (and fail) at least once.
      let health: { status: string; telemetry: { status: string; failedFlushes: number; pendingRows: number; droppedRows: number; lastError: string } } | undefined;
      for (let i = 0; i < 100; i++) {
        health = await (await fetch(`${url}/_emulator/health`)).json();
        if (health!.telemetry.failedFlushes > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(health!.status).toBe('ok');
      expect(health!.telemetry.status).toBe('degraded');
      expect(health!.telemetry.failedFlushes).toBeGreaterThan(0);
      expect(health!.telemetry.pendingRows).toBeGreaterThan(0);
      expect(health!.telemetry.lastError).toBe('SQLITE_FULL: database or disk is full');
      expect(stderr).toContain('telemetry store: database or disk is full');
      expect((await fetch(`${url}/_emulator/health`)).status).toBe(200);
      expect([200, 429]).toContain((await chat(url)).status);
    } finally {
      child.kill('SIGKILL'); // SIGTERM would try (and fail) to flush the queued rows into the full store
    }
  }, 60_000);

  it('stopping `npm start` (SIGTERM to npm) leaves no node child holding the port', async () => {
    const dir = tempDir();
    const npm = spawn('npm', ['start', '--silent', '--', '--port', '0', '--data', join(dir, 'data'), '--quiet'], { cwd: new URL('../..', import.meta.url).pathname, stdio: 'pipe' });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`npm start did not start: ${out}`)), 30_000);
      npm.stdout.on('data', (c) => {
        out += c;
        const m = /listening on (http:\/\/[^\s]+)/.exec(out);
        if (m && out.includes('Control plane')) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    expect((await fetch(`${url}/_emulator/health`)).status).toBe(200);
    npm.kill('SIGTERM');
    await new Promise((r) => npm.once('exit', r));
    let refused = false;
    for (let i = 0; i < 60 && !refused; i++) {
      await new Promise((r) => setTimeout(r, 100));
      refused = await fetch(`${url}/_emulator/health`).then(() => false, () => true);
    }
    expect(refused).toBe(true);
  }, 60_000);
});
