import { defineTokenLimitPolicy } from './shared/token-limit.js';

/** `<llm-token-limit>`: per-key TPM and/or token quota for LLM APIs (policies.md §5). */
export const llmTokenLimit = defineTokenLimitPolicy('llm-token-limit');
