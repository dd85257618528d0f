import type { Router } from 'express';
import type { ServiceMessageKind } from '../../policy-engine/index.js';
import type { Emulator } from '../app.js';

type Fail = (res: import('express').Response, status: number, code: string, message: string) => void;

const KINDS: readonly ServiceMessageKind[] = ['service-bus', 'dapr-pubsub', 'dapr-binding'];

/**
 * Messages that policies sent to the Azure services the emulator stands in for:
 *   GET /_emulator/messages/service-bus   (send-service-bus-message; ?target=orders keeps one queue or topic)
 *   GET /_emulator/messages/dapr-pubsub   (publish-to-dapr; target `pubsub/topic`)
 *   GET /_emulator/messages/dapr-binding  (invoke-dapr-binding; target the binding name)
 * Answers `{ kind, messages: [...oldest first], dropped }` (the newest 1,000 per kind are kept). Cleared by reset.
 */
export function addMessageRoutes(router: Router, emulator: Emulator, fail: Fail): void {
  router.get('/messages/:kind', (req, res) => {
    const kind = req.params.kind as ServiceMessageKind;
    if (!KINDS.includes(kind)) return void fail(res, 404, 'UnknownMessageKind', `No messages of kind '${req.params.kind}'; use ${KINDS.join(', ')}.`);
    const log = emulator.engine.services.messages;
    const { messages, dropped } = log ? log.list(kind) : { messages: [], dropped: 0 };
    const target = typeof req.query.target === 'string' ? req.query.target : undefined;
    res.json({
      kind,
      messages: (target === undefined ? messages : messages.filter((m) => m.target === target)).map((m) => ({ ...m, timestamp: new Date(m.timestamp).toISOString() })),
      dropped,
    });
  });
}
