import { Option, type Command } from 'commander';
import { LAB_NAMES, runLab, type LabName } from './index.js';

/** `ai-gateway-emulator lab <name> [--out dir] [--real-time] [--quiet]` (the replay code loads only when it runs). */
export function addLabCommand(program: Command, out: (line: string) => void): void {
  program
    .command('lab')
    .description('Replay a seed lab notebook (same az, HTTP, SDK and KQL steps) against a fresh in-process emulator; writes its plots as SVG and PNG.')
    .argument('<name>', LAB_NAMES.join(' | '))
    .addOption(new Option('--out <dir>', 'folder for the plots (default: lab-results/<name>)'))
    .addOption(new Option('--real-time', 'wait on the wall clock (the SDK retry step then takes about 5 minutes); default: accelerated virtual time').default(false))
    .addOption(new Option('-q, --quiet', 'no progress bar').default(false))
    .action(async (name: string, opts: { out?: string; realTime: boolean; quiet: boolean }) => {
      if (!(LAB_NAMES as readonly string[]).includes(name)) {
        process.stderr.write(`Unknown lab '${name}'. Labs: ${LAB_NAMES.join(', ')}.\n`);
        process.exitCode = 2;
        return;
      }
      const started = performance.now();
      try {
        const result = await runLab(name as LabName, {
          ...(opts.out === undefined ? {} : { outDir: opts.out }),
          realTime: opts.realTime,
          quiet: opts.quiet,
          print: out,
          color: process.stdout.isTTY === true,
        });
        const wall = ((performance.now() - started) / 1000).toFixed(1);
        const emulated = (result.emulatedMs / 1000).toFixed(1);
        out(`Lab ${name} replayed in ${wall} s (${result.realTime ? 'wall clock' : `${emulated} s of virtual time`}); plots in ${result.outDir}`);
      } catch (error) {
        process.stderr.write(`lab ${name} failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      }
    });
}
