/** Starts benchmark targets (bench/lib/serve-target.ts) as child processes and stops them. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type TargetName = 'bare-http' | 'express' | 'models' | 'emulator-limit' | 'emulator-metrics';

export interface RunningTarget {
  name: string;
  url: string;
  headers: Record<string, string>;
  pid: number;
  stop(): Promise<void>;
}

const SERVE = fileURLToPath(new URL('./serve-target.ts', import.meta.url));

export function startTarget(name: string, target: TargetName, args: string[] = [], nodeArgs: string[] = []): Promise<RunningTarget> {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', SERVE, target, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onExit = (code: number | null) => reject(new Error(`target ${name} exited (${code}) before serving`));
    child.once('exit', onExit);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /^READY (\S+) (.*)$/m.exec(out);
      if (!m) return;
      child.off('exit', onExit);
      resolve({
        name,
        url: m[1]!,
        headers: JSON.parse(m[2]!) as Record<string, string>,
        pid: child.pid!,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
