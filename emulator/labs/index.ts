/**
 * @module ai-gateway-emulator/labs — replays of the seed lab notebooks, with their plots as SVG and PNG.
 * The replay code (openai client, Vega, resvg) loads on the first `runLab` call, not with the package.
 */
import type { LabResult, RunLabOptions } from './run-lab.js';
import type { LabName } from './names.js';

export { LAB_NAMES, type LabName } from './names.js';
export { LabStepError, UnknownLabError } from './errors.js';
export type { LabResult, LabContext, RunLabOptions } from './run-lab.js';
export type { LabCall, DeploymentOutputs } from './notebook.js';
export type { LabChart } from './charts.js';
export type { SdkAttempt } from './lab-time.js';

/**
 * Replays a seed lab notebook against a fresh in-process emulator and writes its plots (see run-lab.ts).
 *
 * @example
 * const result = await runLab('token-rate-limiting', { outDir: 'out', quiet: true });
 * result.charts.rateLimiting.spec; // the Vega-Lite spec, data inline
 */
export async function runLab<N extends LabName>(name: N, options: RunLabOptions = {}): Promise<LabResult<N>> {
  const { runLab: run } = await import('./run-lab.js');
  return run(name, options);
}
