/** @module ai-gateway-emulator/testing — start isolated emulators in-process for integration suites. */
export {
  startEmulator,
  parseScopePath,
  DEFAULT_TEST_START_TIME,
  type StartEmulatorOptions,
  type RunningEmulator,
  type MetricFilter,
  type RequestLogEntry,
  type ScopeRef,
} from './start-emulator.js';
export { mintTestToken, type MintTokenOptions } from './tokens.js';
