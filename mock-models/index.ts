/**
 * @module mock-models — mock Azure OpenAI / AI Foundry model backends, usable in-process
 * (`createMockModels().handle(request)`), over HTTP (`createMockModelsServer`) or through msw
 * (`mock-models/msw.ts`, the only file that imports msw).
 */
export { createMockModels, deploymentEncoding, matchRoute, DEFAULT_REGION, DEFAULT_API_VERSION } from './handler.js';
export type { Operation, RouteMatch } from './handler.js';
export type {
  ClockLike,
  DeploymentConfig,
  DeploymentState,
  MockCall,
  MockModels,
  MockModelsOptions,
  ScriptedResponse,
} from './types.js';
export { directCallOf, ModelHeaders } from './exchange.js';
export type { StreamReport } from './stream.js';
export type { DirectCall, ModelRequest, ModelResponse } from './exchange.js';
export { createMockModelsServer } from './server.js';
export type { MockModelsServer, ListeningMockModelsServer } from './server.js';
export { AzureOpenAIError, MockConnectionError, azureErrors } from './errors.js';
export type { AzureErrorBody, OperationId } from './errors.js';
export { FaultConfigError } from './faults.js';
export type { FaultKind, FaultRule, FaultHandle, Faults } from './faults.js';
export type { Delay, LatencyOptions, LatencyPreset } from './latency.js';
export { LATENCY_PRESETS, resolveLatency } from './latency.js';
export { createCapacityWindow, DEFAULT_MAX_TOKENS_COST, DEFAULT_REQUEST_WINDOW_MS, TOKEN_WINDOW_MS } from './capacity.js';
export type { CapacityDecision, CapacityLimits, CapacityOptions, CapacityWindow } from './capacity.js';
export { MODEL_CATALOGUE, lookupModel, reportedModelName } from './catalogue.js';
export type { ModelInfo } from './catalogue.js';
export {
  countChatPromptTokens,
  countTextTokens,
  encodingForModel,
  encodeText,
  decodeTokens,
  preloadEncodings,
  encodingLoadTimes,
} from './tokenizer.js';
export type { EncodingName, ChatMessageLike, CountChatOptions, ToolLike, FunctionLike } from './tokenizer.js';
