import { semanticCacheStore } from './shared/semantic-cache.js';

/** Semantic cache store for LLM APIs (see shared/semantic-cache.ts). */
export const llmSemanticCacheStore = semanticCacheStore('llm-semantic-cache-store');
