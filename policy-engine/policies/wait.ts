import { definePolicy } from './define.js';

/**
 * `<wait for="all|any">` around send-request, cache-lookup-value and choose: its children run at the same time;
 * `all` (default) continues when every child finished, `any` when the first one did (the others keep running
 * and their effects, such as a response variable, still land).
 */
export const wait = definePolicy({
  name: 'wait',
  sections: ['inbound', 'backend', 'outbound'],
  attributes: {
    for: { kind: 'enum', values: ['all', 'any'], default: 'all', expressions: false },
  },
  children: ['send-request', 'cache-lookup-value', 'choose'],
  compile(node, env) {
    const mode = env.attr(node, 'for', { kind: 'enum', values: ['all', 'any'], default: 'all', expressions: false });
    const steps = env.compileSteps(node.children, `${env.path}/wait`);
    if (!mode) return undefined;
    const any = mode.constant === 'any';
    return {
      async run(ctx) {
        const running = steps.map((step) => ctx.runChildren([step]));
        if (any && running.length > 0) {
          // A failure in a branch that did not finish first is not the request's failure.
          for (const r of running) r.catch(() => undefined);
          await Promise.race(running);
        } else await Promise.all(running);
      },
    };
  },
});
