import { apimErrorBody, PolicyError } from '../pipeline/last-error.js';
import { definePolicy, type ValueSource } from './define.js';

/**
 * `<check-header name="…" failed-check-httpcode="401" failed-check-error-message="…" ignore-case="true"><value>…</value></check-header>`:
 * refuses the request when the header is missing or (with values) holds none of the allowed values.
 */
export const checkHeader = definePolicy({
  name: 'check-header',
  sections: ['inbound'],
  attributes: {
    name: { kind: 'string', required: true },
    'failed-check-httpcode': { kind: 'int', required: true, min: 100, max: 599 },
    'failed-check-error-message': { kind: 'string', required: true },
    'ignore-case': { kind: 'bool', required: true },
  },
  children: ['value'],
  compile(node, env) {
    const name = env.attr(node, 'name', { kind: 'string', required: true });
    const status = env.attr(node, 'failed-check-httpcode', { kind: 'int', required: true, min: 100, max: 599 });
    const message = env.attr(node, 'failed-check-error-message', { kind: 'string', required: true });
    const ignoreCase = env.attr(node, 'ignore-case', { kind: 'bool', required: true });
    if (!name || !status || !message || !ignoreCase) return undefined;
    const values: ValueSource<string>[] = node.children.map((child) => env.text(child, { trim: true }) ?? { isExpression: false, constant: '', get: () => '' });
    return {
      run(ctx) {
        const header = ctx.request.headers.get(name.get(ctx));
        const fold = ignoreCase.get(ctx) ? (s: string) => s.toLowerCase() : (s: string) => s;
        const allowed = values.map((v) => fold(v.get(ctx)));
        const present = header !== undefined;
        const ok = present && (allowed.length === 0 || header.some((h) => h.split(',').some((part) => allowed.includes(fold(part.trim())))));
        if (ok) return;
        const code = status.get(ctx);
        const text = message.get(ctx);
        throw new PolicyError({
          source: 'check-header',
          reason: present ? 'HeaderValueNotAllowed' : 'HeaderNotFound',
          message: text,
          response: { statusCode: code, body: apimErrorBody(code, text) },
        });
      },
    };
  },
});
