import { defineTokenMetricPolicy } from './shared/token-metric.js';

/** `<azure-openai-emit-token-metric>`: same semantics as llm-emit-token-metric for Azure OpenAI APIs. */
export const azureOpenAIEmitTokenMetric = defineTokenMetricPolicy('azure-openai-emit-token-metric');
