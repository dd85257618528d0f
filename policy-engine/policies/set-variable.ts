import { definePolicy } from './define.js';

/** `<set-variable name="x" value="literal | @(expr)"/>`: a literal stores a string; an expression stores its typed value. */
export const setVariable = definePolicy({
  name: 'set-variable',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    name: { kind: 'string', required: true, expressions: false },
    value: { kind: 'string', required: true },
  },
  compile(node, env) {
    const name = env.attr(node, 'name', { kind: 'string', required: true, expressions: false });
    const valueAttr = node.attributes.find((a) => a.name === 'value');
    if (!name || !valueAttr) {
      if (!valueAttr) env.report('PolMissingAttribute', node.nameSpan, [node.name, 'value']);
      return undefined;
    }
    const variable = name.constant!;
    if (valueAttr.expression) {
      const expression = env.expression(valueAttr);
      if (!expression) return undefined;
      return { run: (ctx) => void ctx.variables.set(variable, env.evaluate(expression, ctx)) };
    }
    const literal = valueAttr.value;
    return { run: (ctx) => void ctx.variables.set(variable, literal) };
  },
});
