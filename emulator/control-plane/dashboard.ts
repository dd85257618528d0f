import express, { type Response, type Router } from 'express';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readPolicyXml, scopeKey, type CounterSnapshot, type PolicyScope } from '../../policy-engine/index.js';
import type { Emulator } from '../app.js';

/** The built dashboard (emulator/ui, `npm run build:ui`; built by `prepare` on install and pack). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../ui/dist/', import.meta.url));

const TOKEN_LIMIT_POLICIES = new Set(['llm-token-limit', 'azure-openai-token-limit']);
const TPM_WINDOW_MS = 60_000;
type PolicyElement = NonNullable<ReturnType<typeof readPolicyXml>['root']>;

/** One token-limit element in a policy in force. Numbers are undefined when the attribute is an expression or absent. */
export interface TokenLimitDefinition {
  scope: string;
  policy: string;
  /** The counter-key attribute as written (a constant or an `@(…)` expression). */
  counterKey: string;
  tokensPerMinute?: number;
  tokenQuota?: number;
  tokenQuotaPeriod?: string;
  line: number;
}

/** A counter key's current usage (tokens) read from the counter store. */
export interface TokenLimitCounter {
  /** The evaluated counter-key value (without the gateway id). */
  key: string;
  kind: 'tokens-per-minute' | 'token-quota';
  used: number;
  /** The limit, when one definition in force can own this counter (or all definitions agree). */
  limit?: number;
  /** Quota counters: period and when the current one ends (epoch ms). */
  period?: string;
  resetsAt?: number;
}

/**
 * Routes the dashboard (/_emulator/ui) reads besides the public query API: the static bundle, the policies in force
 * with their load diagnostics, the token-limit counters against their limits, and the recent requests' policy traces.
 */
export function addDashboardRoutes(router: Router, emulator: Emulator): void {
  router.get('/policies', (_req, res) => {
    const inForce = emulator.engine.listPolicies().map(({ scope, policy }) => ({
      scope: scopeKey(scope),
      name: policy.name,
      builtIn: policy.name === 'default-global.xml',
      xml: policy.xml,
      diagnostics: policy.warnings.map((w) => ({ code: w.code, severity: w.severity, message: w.message, ...lineAndColumn(policy.xml, w.span.start) })),
    }));
    res.json({ policies: inForce, scopes: policyScopes(emulator).map(scopeKey) });
  });

  router.get('/token-limits', async (_req, res) => {
    const now = emulator.clock.now();
    const definitions = tokenLimitDefinitions(emulator);
    const snapshot = await emulator.engine.services.counters.snapshot();
    res.json({ now, definitions, counters: tokenLimitCounters(snapshot, definitions, emulator.engine.services.gatewayId, now) });
  });

  // The last requests answered (newest first) and one request's policy trace: the steps that ran, nested, with outcome.
  router.get('/requests/recent', (req, res) => {
    const limit = Number(req.query.limit ?? 100);
    if (!Number.isInteger(limit) || limit < 1) return void res.status(400).json({ error: { code: 'InvalidLimit', message: 'limit must be a positive integer.' } });
    res.json(emulator.recentRequests.list(limit).map(({ steps, ...summary }) => ({ ...summary, steps: steps.length })));
  });
  router.get('/requests/:requestId', (req, res) => {
    const found = emulator.recentRequests.get(String(req.params.requestId));
    if (!found) {
      return void res.status(404).json({ error: { code: 'RequestNotFound', message: `Request '${req.params.requestId}' is not among the recent requests kept in memory.` } });
    }
    res.json(found);
  });

  router.use('/ui', (req, res, next) => {
    if (!existsSync(DASHBOARD_DIR + 'index.html')) return void notBuilt(res);
    // /_emulator/ui → /_emulator/ui/ so the bundle's relative asset paths resolve.
    if (req.path === '/' && !req.originalUrl.split('?')[0]!.endsWith('/')) return void res.redirect(301, `${req.baseUrl}/`);
    next();
  });
  router.use('/ui', express.static(DASHBOARD_DIR, { index: 'index.html', maxAge: 0 }));
}

function notBuilt(res: Response): void {
  res
    .status(503)
    .type('text/plain')
    .send(`The dashboard is not built (${DASHBOARD_DIR}index.html is missing). Run \`npm run build:ui\` in the package folder.\n`);
}

function policyScopes(emulator: Emulator): PolicyScope[] {
  const { products, apis } = emulator.config;
  return [
    { kind: 'global' },
    ...products.map((p): PolicyScope => ({ kind: 'product', productId: p.id })),
    ...apis.flatMap((a): PolicyScope[] => [{ kind: 'api', apiId: a.id }, ...a.operations.map((o): PolicyScope => ({ kind: 'operation', apiId: a.id, operationId: o.id }))]),
  ];
}

export function tokenLimitDefinitions(emulator: Emulator): TokenLimitDefinition[] {
  const out: TokenLimitDefinition[] = [];
  for (const { scope, policy } of emulator.engine.listPolicies()) {
    const doc = readPolicyXml(policy.xml);
    const visit = (el: PolicyElement) => {
      if (TOKEN_LIMIT_POLICIES.has(el.name)) {
        const attr = (name: string) => el.attributes.find((a) => a.name === name);
        const constant = (name: string) => {
          const a = attr(name);
          const n = a && !a.expression ? Number(a.value) : NaN;
          return Number.isFinite(n) ? n : undefined;
        };
        const definition: TokenLimitDefinition = {
          scope: scopeKey(scope),
          policy: el.name,
          counterKey: attr('counter-key')?.value ?? '',
          line: lineAndColumn(policy.xml, el.span.start).line,
        };
        const tpm = constant('tokens-per-minute');
        const quota = constant('token-quota');
        const period = attr('token-quota-period')?.value;
        if (tpm !== undefined) definition.tokensPerMinute = tpm;
        if (quota !== undefined) definition.tokenQuota = quota;
        if (period !== undefined) definition.tokenQuotaPeriod = period;
        out.push(definition);
      }
      el.children.forEach(visit);
    };
    if (doc.root) visit(doc.root);
  }
  return out;
}

/** Counter keys as token-limit.ts writes them: `tpm:<gw>:<key>`, `bucket:<gw>:<key>`, `quota:<gw>:<key>:<period>:<start>`. */
export function tokenLimitCounters(snapshot: CounterSnapshot, definitions: TokenLimitDefinition[], gatewayId: string, now: number): TokenLimitCounter[] {
  const ownLimit = (key: string, pick: (d: TokenLimitDefinition) => number | undefined) => {
    const owners = definitions.filter((d) => pick(d) !== undefined && (d.counterKey.startsWith('@') || d.counterKey === key));
    const limits = new Set(owners.map(pick));
    return limits.size === 1 ? [...limits][0] : undefined;
  };
  const strip = (prefix: string, full: string) => (full.startsWith(`${prefix}:${gatewayId}:`) ? full.slice(prefix.length + gatewayId.length + 2) : undefined);
  const counters: TokenLimitCounter[] = [];
  for (const [full, entries] of Object.entries(snapshot.windows)) {
    const key = strip('tpm', full);
    if (key === undefined) continue;
    const used = entries.filter((e) => e.at > now - TPM_WINDOW_MS && e.at <= now).reduce((sum, e) => sum + e.amount, 0);
    counters.push(withLimit({ key, kind: 'tokens-per-minute', used }, ownLimit(key, (d) => d.tokensPerMinute)));
  }
  for (const [full, bucket] of Object.entries(snapshot.buckets)) {
    const key = strip('bucket', full);
    if (key === undefined) continue;
    const limit = ownLimit(key, (d) => d.tokensPerMinute);
    // A bucket refills at limit/min up to the limit: usage is what is missing from a full bucket now.
    const level = limit === undefined ? bucket.level : Math.min(limit, bucket.level + ((now - bucket.updatedAt) * limit) / TPM_WINDOW_MS);
    counters.push(withLimit({ key, kind: 'tokens-per-minute', used: limit === undefined ? 0 : Math.max(0, Math.round(limit - level)) }, limit));
  }
  for (const [full, counter] of Object.entries(snapshot.counters)) {
    const rest = strip('quota', full);
    if (rest === undefined || counter.expiresAt <= now) continue;
    const parts = rest.split(':');
    if (parts.length < 3) continue;
    const period = parts[parts.length - 2]!;
    const key = parts.slice(0, -2).join(':');
    const limit = ownLimit(key, (d) => (d.tokenQuotaPeriod === undefined || d.tokenQuotaPeriod.toLowerCase() === period.toLowerCase() ? d.tokenQuota : undefined));
    counters.push(withLimit({ key, kind: 'token-quota', used: counter.value, period, resetsAt: counter.expiresAt }, limit));
  }
  return counters.sort((a, b) => a.key.localeCompare(b.key) || a.kind.localeCompare(b.kind));
}

function withLimit(counter: TokenLimitCounter, limit: number | undefined): TokenLimitCounter {
  return limit === undefined ? counter : { ...counter, limit };
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
