import { describe, expect, it } from 'vitest';
import { AzureOpenAI } from 'openai';
import { createMockModels, createMockModelsServer } from '../../mock-models/index.js';
import { createVirtualClock } from '../../policy-engine/clock.js';

describe('response_format and tools with the openai client', () => {
  it('json_object answers JSON, json_schema answers an instance of the schema, tools are accepted', async () => {
    const models = createMockModels({ clock: createVirtualClock(), deployments: [{ name: 'gpt-4o', model: 'gpt-4o' }] });
    const server = await createMockModelsServer(models).listen();
    try {
      const client = new AzureOpenAI({ endpoint: server.url, apiKey: 'k', apiVersion: '2024-10-21', maxRetries: 0 });
      const messages = [{ role: 'user' as const, content: 'Describe a cat.' }];
      const json = await client.chat.completions.create({ model: 'gpt-4o', messages, response_format: { type: 'json_object' } });
      expect(typeof JSON.parse(json.choices[0]!.message.content!).answer).toBe('string');

      const schema = { type: 'object', properties: { name: { type: 'string' }, legs: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } }, kind: { enum: ['cat', 'dog'] } }, required: ['name', 'legs', 'tags', 'kind'], additionalProperties: false };
      const structured = await client.chat.completions.create({ model: 'gpt-4o', messages, response_format: { type: 'json_schema', json_schema: { name: 'animal', schema, strict: true } } });
      const value = JSON.parse(structured.choices[0]!.message.content!);
      expect(Object.keys(value)).toEqual(['name', 'legs', 'tags', 'kind']);
      expect(typeof value.name).toBe('string');
      expect(Number.isInteger(value.legs)).toBe(true);
      expect(Array.isArray(value.tags)).toBe(true);
      expect(value.kind).toBe('cat');

      const withTools = await client.chat.completions.create({
        model: 'gpt-4o',
        messages,
        tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      });
      expect(withTools.choices[0]!.message.content).toBeTruthy();
      expect(withTools.usage!.prompt_tokens).toBeGreaterThan(json.usage!.prompt_tokens); // tool definitions are counted
    } finally {
      await server.close();
    }
  });
});
