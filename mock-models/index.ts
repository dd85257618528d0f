/**
 * @module mock-models — mock Azure OpenAI / AI Foundry model backends, usable in-process,
 * over HTTP (`createMockModelsServer`) or through msw (`mock-models/msw.ts`).
 */
export { createMockModels, matchRoute, DEFAULT_REGION, DEFAULT_API_VERSION } from './handler.js';
export type { ClockLike, DeploymentConfig, MockModels, MockModelsOptions } from './types.js';
export { createMockModelsServer } from './server.js';
export type { MockModelsServer, ListeningMockModelsServer } from './server.js';
export { AzureOpenAIError, MockConnectionError, azureErrors } from './errors.js';
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
