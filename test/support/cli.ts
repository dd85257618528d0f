import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export const CLI_BIN = new URL('../../bin/ai-gateway-emulator.js', import.meta.url).pathname;

export interface StartedCli {
  child: ChildProcessWithoutNullStreams;
  url: string;
  banner: string;
  /** What the CLI wrote to stderr before the banner was complete (later output: listen on child.stderr). */
  stderr: string;
}

/**
 * Starts the real CLI (`ai-gateway-emulator [command] --port 0 …`) and resolves once its banner shows the URL and
 * the `ready` text. Rejects with the output when it exits first or takes longer than `timeoutMs` (default 15 s).
 */
export function startCli(args: string[], options: { command?: string[]; ready?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<StartedCli> {
  const { command = [], ready = 'Control plane', timeoutMs = 15_000 } = options;
  const child = spawn(process.execPath, [CLI_BIN, ...command, '--port', '0', ...args], { stdio: 'pipe', env: options.env ?? process.env });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`CLI did not start: ${out}${err}`)), timeoutMs);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m && out.includes(ready)) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, banner: out, stderr: err });
      }
    });
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`CLI exited with ${code} before starting: ${out}${err}`), { code, stderr: err }));
    });
  });
}

/** Stops a started CLI with SIGTERM and waits for it to exit. */
export function stopCli(child: ChildProcessWithoutNullStreams | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
