import type { PolicyElement } from '../xml/model.js';
import { definePolicy, type ValueSource } from './define.js';
import { ensureResponse } from './set-status.js';

/** Headers APIM will not let a policy change. */
const PROTECTED_HEADERS = new Set(['connection', 'content-length', 'keep-alive', 'transfer-encoding']);

/** `<set-header name="…" exists-action="override|skip|append|delete"><value>…</value></set-header>`. */
export const setHeader = definePolicy({
  name: 'set-header',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    name: { kind: 'string', required: true },
    'exists-action': { kind: 'enum', values: ['override', 'skip', 'append', 'delete'], default: 'override' },
  },
  children: ['value'],
  compile(node, env) {
    const name = env.attr(node, 'name', { kind: 'string', required: true });
    const action = env.attr(node, 'exists-action', { kind: 'enum', values: ['override', 'skip', 'append', 'delete'], default: 'override' });
    if (!name || !action) return undefined;
    const values: ValueSource<string>[] = [];
    for (const child of node.children as PolicyElement[]) {
      const value = env.text(child, { trim: false });
      values.push(value ?? { isExpression: false, constant: '', get: () => '' });
    }
    const targetsResponse = env.section === 'outbound' || env.section === 'on-error';
    return {
      run(ctx) {
        const headerName = name.get(ctx);
        if (PROTECTED_HEADERS.has(headerName.toLowerCase())) {
          ctx.warnings.push(`set-header: header '${headerName}' cannot be modified by policies; ignored.`);
          return;
        }
        const headers = targetsResponse || ctx.buildingResponse ? ensureResponse(ctx).headers : ctx.request.headers;
        const mode = action.get(ctx).toLowerCase();
        if (mode === 'delete') {
          headers.delete(headerName);
          return;
        }
        if (mode === 'skip' && headers.has(headerName)) return;
        const newValues = values.map((v) => v.get(ctx));
        if (mode === 'append' && headers.has(headerName)) headers.set(headerName, [...(headers.get(headerName) ?? []), ...newValues]);
        else headers.set(headerName, newValues);
      },
    };
  },
});
