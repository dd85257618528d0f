import { semanticCacheStore } from './shared/semantic-cache.js';

/** Semantic cache store for Azure OpenAI APIs (see shared/semantic-cache.ts). */
export const azureOpenAISemanticCacheStore = semanticCacheStore('azure-openai-semantic-cache-store');
