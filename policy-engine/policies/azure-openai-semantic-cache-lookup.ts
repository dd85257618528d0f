import { semanticCacheLookup } from './shared/semantic-cache.js';

/** Semantic cache lookup for Azure OpenAI APIs (see shared/semantic-cache.ts). */
export const azureOpenAISemanticCacheLookup = semanticCacheLookup('azure-openai-semantic-cache-lookup');
