import type { PolicyElement } from '../xml/model.js';
import { definePolicy, type ValueSource } from './define.js';
import { recordTrace, type TraceSeverity } from './shared/traces.js';

const SEVERITIES = ['verbose', 'information', 'error'] as const;

/**
 * `<trace source="…" severity="verbose|information|error"><message>…</message><metadata name="…" value="…"/>…</trace>`:
 * records a custom trace and never fails the request. The record is kept per request (`tracesOf(ctx)` in
 * `shared/traces.ts`) and also written as one line to `ctx.warnings`, which the gateway logs.
 */
export const trace = definePolicy({
  name: 'trace',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    source: { kind: 'string', required: true, expressions: false },
    severity: { kind: 'enum', values: SEVERITIES, default: 'verbose', expressions: false },
  },
  children: ['message', 'metadata'],
  compile(node, env) {
    const source = env.attr(node, 'source', { kind: 'string', required: true, expressions: false });
    const severity = env.attr(node, 'severity', { kind: 'enum', values: SEVERITIES, default: 'verbose', expressions: false });
    const messages = node.children.filter((c) => c.name === 'message');
    if (messages.length === 0) env.report('PolMissingChild', node.nameSpan, [node.name, 'message']);
    if (messages.length > 1) env.report('PolAttributeConflict', messages[1]!.nameSpan, [node.name, 'only one <message> is allowed']);
    let ok = messages.length === 1;
    let message: ValueSource<string> | undefined;
    if (messages.length === 1) {
      const m = messages[0]!;
      for (const a of m.attributes) env.report('PolUnknownAttribute', a.nameSpan, ['message', a.name]);
      for (const c of m.children) env.report('PolInvalidChild', c.nameSpan, ['message', c.name]);
      const compiled = env.text(m);
      if (m.text?.expression && !compiled) ok = false;
      message = compiled ?? { isExpression: false, constant: '', get: () => '' };
    }
    const metadata: Array<{ name: string; value: ValueSource<string> }> = [];
    for (const m of node.children.filter((c): c is PolicyElement => c.name === 'metadata')) {
      for (const a of m.attributes) if (a.name !== 'name' && a.name !== 'value') env.report('PolUnknownAttribute', a.nameSpan, ['metadata', a.name]);
      const name = env.attr(m, 'name', { kind: 'string', required: true, expressions: false });
      const value = env.attr(m, 'value', { kind: 'string', required: true });
      if (!name || !value) ok = false;
      else metadata.push({ name: name.constant!, value });
    }
    if (!source || !severity || !ok || !message) return undefined;
    const sourceName = source.constant!;
    const level = severity.constant!.toLowerCase() as TraceSeverity;
    const text = message;
    return {
      run(ctx) {
        const record = {
          timestamp: ctx.services.clock.now(),
          source: sourceName,
          severity: level,
          message: text.get(ctx),
          metadata: Object.fromEntries(metadata.map((m) => [m.name, m.value.get(ctx)])),
          section: env.section,
        };
        recordTrace(ctx, record);
        const extra = metadata.length === 0 ? '' : ` ${JSON.stringify(record.metadata)}`;
        ctx.warnings.push(`trace ${record.source} [${record.severity}] (${record.section}): ${record.message}${extra}`);
      },
    };
  },
});
