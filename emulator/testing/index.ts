/** @module ai-gateway-emulator/testing — start isolated emulators in-process for integration suites. */
export { startEmulator, parseScopePath, DEFAULT_TEST_START_TIME, type StartEmulatorOptions, type RunningEmulator } from './start-emulator.js';
