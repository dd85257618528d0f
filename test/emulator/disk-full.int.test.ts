import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TELEMETRY_FILE } from '../../emulator/app-insights/sqlite-store.js';
import { wellKnownSubscriptionKey } from '../../emulator/config/load.js';
import { CLI_BIN, startCli, stopCli } from '../support/cli.js';
import { chatUrl, LAB_MESSAGES } from '../support/lab.js';

/**
 * A really full disk (not a size cap): a small tmpfs mounted for the test, filled to the last byte by a filler
 * file. Needs root and CAP_SYS_ADMIN (mount); skipped otherwise. The size-capped store (`--telemetry-max-mb`,
 * SQLite max_page_count) is covered without privileges in durability.int.test.ts.
 */
const mounts: string[] = [];
function tryMount(sizeKiB: number): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  mounts.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of mounts) {
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

const probe = process.getuid?.() === 0 ? tryMount(64) : undefined;
const CAN_MOUNT = probe !== undefined;

/** Writes zeros into `path` until the file system refuses (ENOSPC); returns the bytes written. */
function fillDisk(path: string): number {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) {
      try {
        written += writeSync(fd, chunk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw e;
      }
    }
    // Fill the last partial chunk byte by byte.
    for (;;) {
      try {
        if (writeSync(fd, chunk, 0, 1) === 0) break;
        written += 1;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw e;
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

const KEY = wellKnownSubscriptionKey('subscription1', 'primary');
const chat = (url: string) =>
  fetch(chatUrl(url), { method: 'POST', headers: { 'api-key': KEY, 'content-type': 'application/json' }, body: JSON.stringify({ messages: LAB_MESSAGES }) }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

interface Health {
  status: string;
  telemetry: { status: string; pendingRows: number; failedFlushes: number; droppedRows: number; lastError: string | null };
}
const health = async (url: string): Promise<Health> => (await fetch(`${url}/_emulator/health`)).json();

async function until<T>(what: string, probe: () => Promise<T | undefined>, deadlineMs = 15_000): Promise<T> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const TITLE = CAN_MOUNT ? 'a full disk (a tmpfs filled to the last byte)' : 'a full disk: skipped, mounting a tmpfs needs root and CAP_SYS_ADMIN';
describe.skipIf(!CAN_MOUNT)(TITLE, () => {
  it('at start: one clear line and exit 2; after space is freed the same directory starts', async () => {
    const disk = tryMount(256)!;
    const data = join(disk, 'data');
    mkdirSync(data);
    fillDisk(join(disk, 'filler'));
    const r = spawnSync(process.execPath, [CLI_BIN, '--port', '0', '--quiet', '--data', data], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([`The disk holding ${join(data, TELEMETRY_FILE)} is full (SQLITE_FULL). Free space, or start with --data <a directory on another disk>, or --in-memory.`]);
    expect(r.stdout).not.toContain('listening on');

    rmSync(join(disk, 'filler'));
    const { child, url } = await startCli(['--data', data, '--quiet'], { timeoutMs: 45_000 });
    try {
      expect(await chat(url)).toBe(200);
    } finally {
      await stopCli(child);
    }
  }, 90_000);

  it('at run time: requests keep being served, failed flushes are logged and counted in /_emulator/health; freeing space recovers every queued row', async () => {
    const disk = tryMount(8 * 1024);
    const data = join(disk!, 'data');
    const { child, url } = await startCli(['--data', data, '--quiet', '--preset', 'token-metrics-emitting'], { timeoutMs: 45_000 });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    try {
      expect(await chat(url)).toBe(200);
      await until('the first row flushed', async () => ((await health(url)).telemetry.pendingRows === 0 ? true : undefined));
      fillDisk(join(disk!, 'filler'));

      // The disk is full: 10 more requests (the mock deployment allows 20 a minute).
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push(await chat(url));
      expect(statuses).toEqual(Array(10).fill(200));
      const degraded = await until('a failed flush in /_emulator/health', async () => {
        const h = await health(url);
        return h.telemetry.failedFlushes > 0 ? h : undefined;
      });
      expect(degraded.status).toBe('ok');
      expect(degraded.telemetry).toMatchObject({ status: 'degraded', droppedRows: 0 });
      expect(degraded.telemetry.pendingRows).toBeGreaterThan(0);
      expect(degraded.telemetry.lastError).toMatch(/^SQLITE_FULL: database or disk is full$/);
      expect(stderr).toContain('telemetry store: database or disk is full');
      expect(await chat(url)).toBe(200); // still serving

      // Space back: the queued rows are written on the next retry (every second), nothing was lost.
      rmSync(join(disk!, 'filler'));
      const recovered = await until('the queue to drain', async () => {
        const h = await health(url);
        return h.telemetry.pendingRows === 0 && h.telemetry.status === 'ok' ? h : undefined;
      });
      expect(recovered.telemetry.droppedRows).toBe(0);
      await stopCli(child);
      const db = new Database(join(data, TELEMETRY_FILE), { readonly: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        const requests = (db.prepare("SELECT count(*) AS n FROM requests WHERE resultCode = '200'").get() as { n: number }).n;
        expect(requests).toBe(12);
        expect((db.prepare('SELECT count(*) AS n FROM customMetrics').get() as { n: number }).n).toBe(3 * 12);
      } finally {
        db.close();
      }
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);
});
