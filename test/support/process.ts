import { execFile, execFileSync } from 'node:child_process';

export interface ProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to the end and resolves with its exit code and output (never rejects on a non-zero exit). */
export function runProcess(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ProcessRun> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, env: options.env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** `python3 --version`, or undefined when there is no python3 (the lab-fixture suites then skip, saying so). */
export const PYTHON: string | undefined = (() => {
  try {
    return execFileSync('python3', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
})();
