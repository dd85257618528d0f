import type { Router } from 'express';
import { PolicyLoadError, scopeKey } from '../../policy-engine/index.js';
import type { Emulator } from '../app.js';

type Fail = (res: import('express').Response, status: number, code: string, message: string) => void;

const NAME = /^[A-Za-z0-9._-]{1,256}$/;

/**
 * Named values (APIM's `{{name}}`) on the control plane:
 *   GET /_emulator/named-values, PUT /_emulator/named-values/:name { value } (or ARM's { properties: { value } }),
 *   DELETE /_emulator/named-values/:name.
 * Names are case-insensitive, as in APIM. Installed policies are compiled again, so a policy loaded with an
 * undefined reference (strict mode off) now sees the value; one that would no longer load keeps its previous version.
 */
export function addNamedValueRoutes(router: Router, emulator: Emulator, fail: Fail): void {
  const values = () => emulator.config.namedValues;
  const existing = (name: string) => Object.keys(values()).find((k) => k.toLowerCase() === name.toLowerCase());

  router.get('/named-values', (_req, res) => {
    res.json(Object.entries(values()).map(([name, value]) => ({ name, value })));
  });
  router.put('/named-values/:name', (req, res) => {
    const name = req.params.name!;
    if (!NAME.test(name)) return void fail(res, 400, 'InvalidName', "A named value's name has letters, digits, '.', '-' and '_' only (at most 256).");
    const body = (req.body ?? {}) as { value?: unknown; properties?: { value?: unknown } };
    const value = body.properties?.value ?? body.value;
    if (typeof value !== 'string') return void fail(res, 400, 'InvalidValue', 'Send { "value": "<text>" } (or { "properties": { "value": "<text>" } }).');
    const previous = existing(name);
    if (previous !== undefined) delete values()[previous];
    values()[name] = value;
    res.json({ name, value, recompiled: recompilePolicies(emulator) });
  });
  router.delete('/named-values/:name', (req, res) => {
    const previous = existing(req.params.name!);
    if (previous !== undefined) delete values()[previous];
    res.status(previous === undefined ? 404 : 200).json({ name: req.params.name, status: previous === undefined ? 'absent' : 'deleted' });
  });
}

/** Compiles every installed policy again with the current named values; returns the scopes that reloaded. */
function recompilePolicies(emulator: Emulator): string[] {
  const reloaded: string[] = [];
  for (const { scope, policy } of emulator.engine.listPolicies()) {
    if (scope.kind === 'global' && policy.name === 'default-global.xml') continue;
    try {
      emulator.setPolicy(scope, policy.xml);
      reloaded.push(scopeKey(scope));
    } catch (error) {
      if (!(error instanceof PolicyLoadError)) throw error;
    }
  }
  return reloaded;
}
