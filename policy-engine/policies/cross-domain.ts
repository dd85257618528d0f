import { readPolicyXml } from '../xml/index.js';
import type { PolicyElement } from '../xml/model.js';
import { definePolicy } from './define.js';

/** The path Flash and Silverlight clients fetch the cross-domain policy file from. */
export const CROSS_DOMAIN_PATH = '/crossdomain.xml';

/**
 * `<cross-domain><cross-domain-policy>…</cross-domain-policy></cross-domain>` (global scope, inbound): the gateway
 * answers `GET /crossdomain.xml` with the policy file written inside it (Adobe's cross-domain policy format), for
 * Flash and Silverlight clients. The content is served as written; it does not change API requests (the step is a
 * no-op in the pipeline). The emulator checks that the content is one `<cross-domain-policy>` element.
 */
export const crossDomain = definePolicy({
  name: 'cross-domain',
  sections: ['inbound'],
  attributes: {},
  children: 'markup',
  compile(node, env) {
    if (env.scope !== 'global') {
      env.report('PolWrongScope', node.nameSpan, [node.name, env.scope, 'global']);
      return undefined;
    }
    const roots = node.children;
    if (roots.length !== 1 || roots[0]!.name !== 'cross-domain-policy') {
      env.report('PolMissingChild', (roots.find((r) => r.name !== 'cross-domain-policy') ?? node).nameSpan, [node.name, 'cross-domain-policy']);
      return undefined;
    }
    return { run() {} };
  },
});

/** The body of `GET /crossdomain.xml` for a global policy document, or undefined when it has no cross-domain policy. */
export function crossDomainFile(globalPolicyXml: string): string | undefined {
  const doc = readPolicyXml(globalPolicyXml, { name: 'global policy' });
  const inbound = doc.root?.children.find((c) => c.name === 'inbound');
  const element = inbound ? findElement(inbound, 'cross-domain') : undefined;
  if (!element) return undefined;
  const raw = doc.source.text.slice(element.span.start, element.span.end);
  const start = raw.indexOf('<cross-domain-policy');
  const end = raw.lastIndexOf('</cross-domain>');
  if (start < 0 || end < 0) return undefined;
  return `<?xml version="1.0"?>\n${raw.slice(start, end).trim()}`;
}

function findElement(node: PolicyElement, name: string): PolicyElement | undefined {
  for (const child of node.children) {
    if (child.name === name) return child;
    const nested = findElement(child, name);
    if (nested) return nested;
  }
  return undefined;
}
