import { semanticCacheLookup } from './shared/semantic-cache.js';

/** Semantic cache lookup for LLM APIs (the Azure AI Model Inference variant; see shared/semantic-cache.ts). */
export const llmSemanticCacheLookup = semanticCacheLookup('llm-semantic-cache-lookup');
