import { countChatPromptTokens, countTextTokens, encodingForModel } from '../../mock-models/index.js';
import { IMAGE_TOKEN_ESTIMATE, type TokenEstimator } from '../../policy-engine/index.js';

/**
 * The prompt estimator the token-limit policies use: the deployment model's real tokenizer with OpenAI's chat
 * formula; each image adds APIM's fixed estimate (policies.md §5.5).
 */
export function createTokenEstimator(modelFor: (deployment: string | undefined) => string | undefined): TokenEstimator {
  return {
    estimatePromptTokens(body, request) {
      const model = modelFor(request.deployment ?? (body as { model?: string } | undefined)?.model);
      const b = body as { messages?: unknown; input?: unknown; prompt?: unknown; tools?: unknown; functions?: unknown } | undefined;
      if (b && Array.isArray(b.messages)) {
        return countChatPromptTokens(b.messages as never, { model, tools: b.tools as never, functions: b.functions as never } as never) + countImageParts(b.messages) * IMAGE_TOKEN_ESTIMATE;
      }
      const text = typeof b?.input === 'string' ? b.input : typeof b?.prompt === 'string' ? b.prompt : b?.input !== undefined ? JSON.stringify(b.input) : '';
      return text ? countTextTokens(text, encodingForModel(model)) : 0;
    },
    estimateTextTokens(text, model) {
      return text ? countTextTokens(text, encodingForModel(model)) : 0;
    },
  };
}

function countImageParts(messages: unknown[]): number {
  let images = 0;
  for (const m of messages as Array<{ content?: unknown }>) {
    if (Array.isArray(m?.content)) for (const part of m.content) if ((part as { type?: string }).type === 'image_url') images++;
  }
  return images;
}
