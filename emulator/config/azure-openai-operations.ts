import type { OperationConfig } from './schema.js';

/** The Azure OpenAI operation set an imported Azure OpenAI / AI Foundry API exposes (labs.md §2.3). */
export const AZURE_OPENAI_OPERATIONS: readonly OperationConfig[] = [
  { id: 'chatcompletions-create', name: 'ChatCompletions_Create', method: 'POST', urlTemplate: '/deployments/{deployment-id}/chat/completions' },
  { id: 'completions-create', name: 'Completions_Create', method: 'POST', urlTemplate: '/deployments/{deployment-id}/completions' },
  { id: 'embeddings-create', name: 'Embeddings_Create', method: 'POST', urlTemplate: '/deployments/{deployment-id}/embeddings' },
  { id: 'transcriptions-create', name: 'Transcriptions_Create', method: 'POST', urlTemplate: '/deployments/{deployment-id}/audio/transcriptions' },
  { id: 'translations-create', name: 'Translations_Create', method: 'POST', urlTemplate: '/deployments/{deployment-id}/audio/translations' },
  { id: 'speech-create', name: 'Speech_Create', method: 'POST', urlTemplate: '/deployments/{deployment-id}/audio/speech' },
  { id: 'imagegenerations-create', name: 'ImageGenerations_Create', method: 'POST', urlTemplate: '/deployments/{deployment-id}/images/generations' },
  { id: 'createresponse', name: 'createResponse', method: 'POST', urlTemplate: '/responses' },
  { id: 'getresponse', name: 'getResponse', method: 'GET', urlTemplate: '/responses/{response_id}' },
  { id: 'deleteresponse', name: 'deleteResponse', method: 'DELETE', urlTemplate: '/responses/{response_id}' },
  { id: 'listinputitems', name: 'listInputItems', method: 'GET', urlTemplate: '/responses/{response_id}/input_items' },
];
