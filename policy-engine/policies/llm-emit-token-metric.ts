import { defineTokenMetricPolicy } from './shared/token-metric.js';

/** `<llm-emit-token-metric namespace="…"><dimension …/></llm-emit-token-metric>` (policies.md §6). */
export const llmEmitTokenMetric = defineTokenMetricPolicy('llm-emit-token-metric');
