import type { ServiceMessage, ServiceMessageKind, ServiceMessageLog } from '../../pipeline/types.js';

/** Messages kept per kind before the oldest are dropped. */
export const SERVICE_MESSAGES_PER_KIND = 1_000;

/** An in-memory ServiceMessageLog keeping the newest `bound` messages of each kind. */
export function createMemoryServiceMessageLog(bound = SERVICE_MESSAGES_PER_KIND): ServiceMessageLog {
  const byKind = new Map<ServiceMessageKind, { messages: ServiceMessage[]; dropped: number }>();
  return {
    append(message) {
      let entry = byKind.get(message.kind);
      if (!entry) byKind.set(message.kind, (entry = { messages: [], dropped: 0 }));
      entry.messages.push(message);
      if (entry.messages.length > bound) {
        entry.messages.splice(0, entry.messages.length - bound);
        entry.dropped++;
      }
    },
    list(kind) {
      const entry = byKind.get(kind);
      return { messages: [...(entry?.messages ?? [])], dropped: entry?.dropped ?? 0 };
    },
    clear() {
      byKind.clear();
    },
  };
}
