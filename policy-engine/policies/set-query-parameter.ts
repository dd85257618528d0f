import type { PolicyElement } from '../xml/model.js';
import { definePolicy, type ValueSource } from './define.js';

const ACTIONS = ['override', 'skip', 'append', 'delete'] as const;

/**
 * `<set-query-parameter name="…" exists-action="override|skip|append|delete"><value>…</value>…</set-query-parameter>`:
 * changes the query string of the request sent to the backend (`context.Request.Url`). `override` (default) replaces
 * every value of the parameter, `skip` sets it only when absent, `append` adds the values, `delete` removes it.
 * Without a `<value>`, override/skip/append set one empty value.
 */
export const setQueryParameter = definePolicy({
  name: 'set-query-parameter',
  sections: ['inbound', 'backend'],
  attributes: {
    name: { kind: 'string', required: true },
    'exists-action': { kind: 'enum', values: ACTIONS, default: 'override' },
  },
  children: ['value'],
  compile(node, env) {
    const name = env.attr(node, 'name', { kind: 'string', required: true });
    const action = env.attr(node, 'exists-action', { kind: 'enum', values: ACTIONS, default: 'override' });
    if (!name || !action) return undefined;
    const nameAttr = node.attributes.find((a) => a.name === 'name')!;
    if (!name.isExpression && name.constant!.trim() === '') {
      env.report('PolInvalidAttributeValue', nameAttr.valueSpan, [node.name, 'name', nameAttr.value, 'a parameter name is required']);
      return undefined;
    }
    const values: ValueSource<string>[] = [];
    for (const child of node.children as PolicyElement[]) {
      values.push(env.text(child, { trim: false }) ?? { isExpression: false, constant: '', get: () => '' });
    }
    return {
      run(ctx) {
        const parameter = name.get(ctx);
        const query = ctx.request.url.searchParams;
        const mode = action.get(ctx).toLowerCase();
        if (mode === 'delete') {
          query.delete(parameter);
          return;
        }
        if (mode === 'skip' && query.has(parameter)) return;
        const newValues = values.length === 0 ? [''] : values.map((v) => v.get(ctx));
        if (mode === 'override') query.delete(parameter);
        for (const value of newValues) query.append(parameter, value);
      },
    };
  },
});
