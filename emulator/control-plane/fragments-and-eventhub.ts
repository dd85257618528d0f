import type { Response, Router } from 'express';
import { PolicyLoadError } from '../../policy-engine/index.js';
import type { Emulator } from '../app.js';

type Fail = (res: Response, status: number, code: string, message: string) => void;

const FRAGMENT_ID = /^[A-Za-z0-9._-]{1,80}$/;

/**
 * Policy fragments (include-fragment) on the control plane:
 *   GET /_emulator/fragments → [{ id, value }]; GET /_emulator/fragments/:id → the XML;
 *   PUT /_emulator/fragments/:id with the XML (application/xml) or { value } / ARM's { properties: { value } };
 *   DELETE /_emulator/fragments/:id.
 * A PUT compiles every installed policy again with the new fragment, all or nothing: when the fragment, or a policy
 * including it, would not load, the answer is 400 with the diagnostics and nothing changes. A DELETE of a fragment
 * that a policy still includes is refused (409), as APIM refuses to delete a fragment in use. Fragments are kept in
 * the emulator's configuration, so /_emulator/reset keeps them (as named values); a deleted fragment that the
 * configuration's own policies include comes back with them on reset.
 */
export function addFragmentRoutes(router: Router, emulator: Emulator, fail: Fail): void {
  router.get('/fragments', (_req, res) => {
    res.json(emulator.engine.listFragments().map(({ id, xml }) => ({ id, value: xml })));
  });
  router.get('/fragments/:id', (req, res) => {
    const xml = emulator.engine.getFragment(req.params.id!);
    if (xml === undefined) return void fail(res, 404, 'FragmentNotFound', `No policy fragment '${req.params.id}'.`);
    res.type('application/xml').send(xml);
  });
  router.put('/fragments/:id', (req, res) => {
    const id = req.params.id!;
    if (!FRAGMENT_ID.test(id)) return void fail(res, 400, 'InvalidName', "A fragment id has letters, digits, '.', '-' and '_' only (at most 80).");
    const body = req.body as unknown;
    const xml = typeof body === 'string' ? body : ((body as { properties?: { value?: unknown }; value?: unknown } | undefined)?.properties?.value ?? (body as { value?: unknown } | undefined)?.value);
    if (typeof xml !== 'string' || xml.trim() === '') {
      return void fail(res, 400, 'InvalidFragment', 'Send the fragment XML (<fragment>…</fragment>) as the body (Content-Type: application/xml), or { "value": "<fragment>…</fragment>" }.');
    }
    try {
      const recompiled = emulator.engine.setFragment(id, xml);
      emulator.config.fragments[id] = xml;
      res.json({ id, status: 'loaded', recompiled });
    } catch (error) {
      if (!(error instanceof PolicyLoadError)) throw error;
      res.status(400).json({ error: { code: 'ValidationError', message: `The fragment '${id}' was not applied: it, or a policy including it, does not load. Nothing changed.`, details: error.toJSON() } });
    }
  });
  router.delete('/fragments/:id', (req, res) => {
    const id = req.params.id!;
    try {
      const removed = emulator.engine.removeFragment(id);
      // A fragment the configuration's own policies include stays in the configuration: reset restores both.
      const restoredByReset = removed && configIncludes(emulator, id);
      if (removed && !restoredByReset) delete emulator.config.fragments[id];
      res.status(removed ? 200 : 404).json({ id, status: removed ? 'deleted' : 'absent', ...(restoredByReset ? { restoredByReset } : {}) });
    } catch (error) {
      if (!(error instanceof PolicyLoadError)) throw error;
      res.status(409).json({ error: { code: 'FragmentInUse', message: `The fragment '${id}' is included by an installed policy; remove the include-fragment first.`, details: error.toJSON() } });
    }
  });
}

/** Whether a policy of the configuration (restored by reset) includes the fragment. */
function configIncludes(emulator: Emulator, id: string): boolean {
  const c = emulator.config;
  const policies = [c.globalPolicy, ...c.products.map((p) => p.policy), ...c.apis.flatMap((a) => [a.policy, ...a.operations.map((o) => o.policy)])];
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`fragment-id\\s*=\\s*["']\\s*${escaped}\\s*["']`);
  return policies.some((xml) => xml !== undefined && pattern.test(xml));
}

/**
 * log-to-eventhub messages, kept in memory by the emulator:
 *   GET /_emulator/eventhub → [{ loggerId, count, dropped }];
 *   GET /_emulator/eventhub/:logger/messages → { loggerId, count, dropped, messages: [{ timestamp, partitionId?,
 *   partitionKey?, message, truncated, requestId }] } (oldest first; `dropped` counts messages beyond the bound).
 * /_emulator/reset clears them.
 */
export function addEventHubRoutes(router: Router, emulator: Emulator, _fail: Fail): void {
  const log = () => emulator.engine.services.eventHub!;
  router.get('/eventhub', (_req, res) => {
    res.json(log().loggers().map((loggerId) => {
      const { messages, dropped } = log().messages(loggerId);
      return { loggerId, count: messages.length, dropped };
    }));
  });
  router.get('/eventhub/:logger/messages', (req, res) => {
    const loggerId = req.params.logger!;
    const { messages, dropped } = log().messages(loggerId);
    res.json({
      loggerId,
      count: messages.length,
      dropped,
      messages: messages.map((m) => ({
        timestamp: new Date(m.timestamp).toISOString(),
        ...(m.partitionId === undefined ? {} : { partitionId: m.partitionId }),
        ...(m.partitionKey === undefined ? {} : { partitionKey: m.partitionKey }),
        message: m.message,
        truncated: m.truncated,
        requestId: m.requestId,
      })),
    });
  });
}
