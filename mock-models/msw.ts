/**
 * msw handlers over the model core, for test suites with no server:
 * `setupServer(...azureOpenAIHandlers())` answers `fetch('https://x.openai.azure.com/openai/…')`.
 * The only file in mock-models that imports msw.
 */
import { http, HttpResponse, type HttpHandler } from 'msw';
import { MockConnectionError } from './errors.js';
import { createMockModels } from './handler.js';
import type { MockModels, MockModelsOptions } from './types.js';

/** Azure OpenAI / Foundry hosts: `*.openai.azure.com`, `*.cognitiveservices.azure.com`, `*.services.ai.azure.com`. */
export const AZURE_OPENAI_HOSTS = /^https?:\/\/[^/]+\.(?:openai\.azure\.com|cognitiveservices\.azure\.com|services\.ai\.azure\.com)\/.*$/;

export interface AzureOpenAIHandlersOptions extends MockModelsOptions {
  /** Reuse an existing core (to script it or read `calls`); otherwise one is created from the options. */
  models?: MockModels;
  /** Which URLs to answer (default: the Azure OpenAI host families). */
  url?: RegExp | string;
}

/**
 * Handlers answering Azure OpenAI requests in-process. A 'reset' fault becomes a network error
 * (`HttpResponse.error()`), which fetch reports as `TypeError: Failed to fetch`.
 * @example
 * const models = createMockModels({ deployments: [{ name: 'gpt-4o', model: 'gpt-4o' }] });
 * const server = setupServer(...azureOpenAIHandlers({ models }));
 * server.listen();
 */
export function azureOpenAIHandlers(options: AzureOpenAIHandlersOptions = {}): HttpHandler[] {
  const { models: given, url, ...modelOptions } = options;
  const models = given ?? createMockModels(modelOptions);
  return [
    http.all(url ?? AZURE_OPENAI_HOSTS, async function azureOpenAI({ request }) {
      try {
        return await models.handle(request);
      } catch (error) {
        if (error instanceof MockConnectionError) return HttpResponse.error();
        throw error;
      }
    }),
  ];
}
