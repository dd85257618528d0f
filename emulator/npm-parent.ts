/**
 * Under `npm start` (or `npx`) the process chain is npm → `sh -c` → node. npm stopped with SIGKILL cannot pass a
 * signal on, and the shell it leaves behind is re-parented but keeps waiting for node, whose own parent (the shell)
 * is still alive: node would keep the port. So both links are watched: this process's parent changing, and (Linux,
 * /proc) the parent's parent changing. Either one → `onOrphaned` (the CLI shuts down as on SIGTERM).
 */
import { readFileSync } from 'node:fs';

/** The parent of `pid` from /proc (undefined where /proc is missing or the process is gone). */
export function parentPidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may contain spaces and parentheses, the fields after the last ')' do not.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** Polls every `intervalMs` (unref'd timer); calls `onOrphaned` once. Returns a stop function. */
export function watchNpmParent(onOrphaned: () => void, intervalMs = 250): () => void {
  const parent = process.ppid;
  const grandparent = parentPidOf(parent);
  const timer = setInterval(() => {
    const orphaned = process.ppid !== parent || (grandparent !== undefined && parentPidOf(parent) !== grandparent);
    if (!orphaned) return;
    clearInterval(timer);
    onOrphaned();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
