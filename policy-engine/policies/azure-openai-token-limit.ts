import { defineTokenLimitPolicy } from './shared/token-limit.js';

/** `<azure-openai-token-limit>`: same semantics as llm-token-limit for Azure OpenAI APIs (policies.md §5.10). */
export const azureOpenAITokenLimit = defineTokenLimitPolicy('azure-openai-token-limit');
