import { definePolicy } from './define.js';

/**
 * `<include-fragment fragment-id="…"/>`: the policy fragment's policies run here, as if its XML were written in
 * place (compiled when the including document loads; any section, any scope). Fragments come from the config file
 * (`fragments`) or the control plane (PUT /_emulator/fragments/{id}); changing one recompiles every policy that
 * includes it, all or nothing. An unknown fragment, a fragment that includes itself, or a problem inside it refuses
 * the including document, naming the fragment and the place in it.
 */
export const includeFragment = definePolicy({
  name: 'include-fragment',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: { 'fragment-id': { kind: 'string', required: true, expressions: false } },
  compile(node, env) {
    const id = env.attr(node, 'fragment-id', { kind: 'string', required: true, expressions: false });
    if (!id) return undefined;
    const attr = node.attributes.find((a) => a.name === 'fragment-id')!;
    const steps = env.compileFragment(id.constant!.trim(), attr.valueSpan, env.path);
    if (!steps) return undefined;
    return {
      run(ctx) {
        return ctx.runChildren(steps);
      },
    };
  },
});
