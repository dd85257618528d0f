import type { EngineServices, EventHubLog, EventHubMessage } from '../pipeline/types.js';
import { definePolicy } from './define.js';

/** Largest message APIM sends to an event hub; longer ones are cut to it (documented: 200 KB). */
export const EVENT_HUB_MAX_MESSAGE_BYTES = 200 * 1024;
/** Messages kept per logger by default; older ones are dropped (and counted). */
export const EVENT_HUB_DEFAULT_BOUND = 1000;

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** Messages kept in memory, per logger, at most `bound` each (oldest dropped first). */
export function createMemoryEventHubLog(options: { bound?: number } = {}): EventHubLog {
  const bound = options.bound ?? EVENT_HUB_DEFAULT_BOUND;
  const byLogger = new Map<string, { messages: EventHubMessage[]; dropped: number }>();
  return {
    append(message) {
      let entry = byLogger.get(message.loggerId);
      if (!entry) byLogger.set(message.loggerId, (entry = { messages: [], dropped: 0 }));
      entry.messages.push(message);
      if (entry.messages.length > bound) {
        const excess = entry.messages.length - bound;
        entry.messages.splice(0, excess);
        entry.dropped += excess;
      }
    },
    messages(loggerId) {
      const entry = byLogger.get(loggerId);
      return { messages: entry ? entry.messages.slice() : [], dropped: entry?.dropped ?? 0 };
    },
    loggers: () => [...byLogger.keys()],
    clear: () => byLogger.clear(),
  };
}

const fallback = new WeakMap<EngineServices, EventHubLog>();

export function eventHubLogFor(services: EngineServices): EventHubLog {
  if (services.eventHub) return services.eventHub;
  let log = fallback.get(services);
  if (!log) fallback.set(services, (log = createMemoryEventHubLog()));
  return log;
}

/** Cuts a message to at most `max` UTF-8 bytes without splitting a character. */
function truncateUtf8(text: string, max: number): { text: string; truncated: boolean } {
  const bytes = ENCODER.encode(text);
  if (bytes.length <= max) return { text, truncated: false };
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return { text: DECODER.decode(bytes.subarray(0, end)), truncated: true };
}

/**
 * `<log-to-eventhub logger-id="…" [partition-id="…" | partition-key="…"]>message text or @(expression)</log-to-eventhub>`:
 * the emulator has no event hub; each message is kept in memory per logger (bounded, oldest dropped), cut to 200 KB
 * as APIM does, and read back with GET /_emulator/eventhub/{logger-id}/messages; reset clears them. Any logger id is
 * accepted (APIM refuses an id with no Logger entity at deployment) [INF].
 */
export const logToEventhub = definePolicy({
  name: 'log-to-eventhub',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    'logger-id': { kind: 'string', required: true, expressions: false },
    'partition-id': { kind: 'string', expressions: false },
    'partition-key': { kind: 'string' },
  },
  compile(node, env) {
    const loggerId = env.attr(node, 'logger-id', { kind: 'string', required: true, expressions: false });
    const partitionId = env.attr(node, 'partition-id', { kind: 'string', expressions: false });
    const partitionKey = env.attr(node, 'partition-key', { kind: 'string' });
    if (!loggerId) return undefined;
    if (partitionId && partitionKey) {
      env.report('PolAttributeConflict', node.nameSpan, [node.name, "'partition-id' and 'partition-key' are mutually exclusive"]);
      return undefined;
    }
    if (partitionId && !/^\d+$/.test(partitionId.constant!.trim())) {
      const attr = node.attributes.find((a) => a.name === 'partition-id')!;
      env.report('PolInvalidAttributeValue', attr.valueSpan, [node.name, 'partition-id', attr.value, 'expected a partition index (0, 1, …)']);
      return undefined;
    }
    const text = env.text(node, { trim: false }) ?? { isExpression: false, constant: '', get: () => '' };
    const id = loggerId.constant!;
    return {
      run(ctx) {
        const { text: message, truncated } = truncateUtf8(text.isExpression ? text.get(ctx) : text.get(ctx).trim(), EVENT_HUB_MAX_MESSAGE_BYTES);
        const entry: EventHubMessage = { loggerId: id, timestamp: ctx.services.clock.now(), message, truncated, requestId: ctx.requestId };
        if (partitionId) entry.partitionId = partitionId.constant!.trim();
        if (partitionKey) entry.partitionKey = partitionKey.get(ctx);
        eventHubLogFor(ctx.services).append(entry);
      },
    };
  },
});
