/**
 * @module ai-gateway-emulator — an offline, Azure-compatible AI gateway: APIM policies (token limits, token
 * metrics), mock Azure OpenAI models, App Insights-shaped telemetry with KQL.
 */
export { createEmulator, type CreateEmulatorOptions, type Emulator } from './app.js';
export { createTokenEstimator } from './gateway/token-estimator.js';
export { resolveConfig, loadConfigFile, wellKnownSubscriptionKey, ConfigError, type ResolvedConfig } from './config/load.js';
export { defaultAppInsightsIdentity, type AppInsightsIdentity, type TelemetryStore } from './app-insights/store.js';
export { PRESETS, presetConfig, DEFAULT_PRESET, type PresetName } from './config/presets.js';
export type * from './config/schema.js';
export { startEmulator, type StartEmulatorOptions, type RunningEmulator } from './testing/start-emulator.js';
export { runLab, LAB_NAMES, type LabName, type LabResult, type RunLabOptions } from './labs/index.js';
