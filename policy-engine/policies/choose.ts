import type { CompiledExpression } from '../expressions/index.js';
import { PolicyError } from '../pipeline/last-error.js';
import type { PolicyStep } from '../pipeline/types.js';
import { definePolicy } from './define.js';

/** `<choose><when condition="@(bool)">…</when>…<otherwise>…</otherwise></choose>`: the first true branch runs. */
export const choose = definePolicy({
  name: 'choose',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {},
  children: ['when', 'otherwise'],
  compile(node, env) {
    const branches: Array<{ condition: CompiledExpression | undefined; steps: PolicyStep[] }> = [];
    let otherwise: PolicyStep[] | undefined;
    let whenIndex = 0;
    let ok = true;
    for (const child of node.children) {
      if (child.name === 'when') {
        whenIndex++;
        const conditionAttr = child.attributes.find((a) => a.name === 'condition');
        if (!conditionAttr) {
          env.report('PolMissingAttribute', child.nameSpan, ['when', 'condition']);
          ok = false;
          continue;
        }
        for (const a of child.attributes) if (a.name !== 'condition') env.report('PolUnknownAttribute', a.nameSpan, ['when', a.name]);
        const condition = conditionAttr.expression ? env.expression(conditionAttr) : undefined;
        if (conditionAttr.expression && !condition) ok = false;
        const literal = conditionAttr.expression ? undefined : conditionAttr.value.trim().toLowerCase();
        if (literal !== undefined && literal !== 'true' && literal !== 'false') {
          env.report('PolInvalidAttributeValue', conditionAttr.valueSpan, ['when', 'condition', conditionAttr.value, 'expected a boolean expression']);
          ok = false;
        }
        const steps = env.compileSteps(child.children, `${env.path}/when[${whenIndex}]`);
        branches.push({ condition: condition ?? (literal === 'true' ? TRUE : FALSE), steps });
      } else if (child.name === 'otherwise') {
        if (otherwise) env.report('PolAttributeConflict', child.nameSpan, ['choose', 'only one <otherwise> is allowed']);
        otherwise = env.compileSteps(child.children, `${env.path}/otherwise`);
      }
    }
    if (whenIndex === 0) {
      env.report('PolMissingChild', node.nameSpan, ['choose', 'when']);
      return undefined;
    }
    if (!ok) return undefined;
    return {
      async run(ctx) {
        for (const branch of branches) {
          const value = env.evaluate(branch.condition!, ctx);
          if (typeof value !== 'boolean') {
            throw new PolicyError({ source: 'choose', reason: 'ExpressionValueEvaluationFailure', message: `Expression evaluation failed. Condition returned '${String(value)}', not a Boolean.` });
          }
          if (value) return ctx.runChildren(branch.steps);
        }
        if (otherwise) await ctx.runChildren(otherwise);
      },
    };
  },
});

const TRUE: CompiledExpression = { kind: 'expression', evaluate: () => true };
const FALSE: CompiledExpression = { kind: 'expression', evaluate: () => false };
