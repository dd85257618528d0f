import { definePolicy } from './define.js';
import { conversionApplies, conversionFailure } from './shared/conversion-gate.js';
import { readBodyText, targetsResponse, writeBodyText } from './shared/message-body.js';
import { isJsonMediaType, isXmlMediaType, jsonToXmlText } from './shared/xml-json.js';

/**
 * `<json-to-xml apply="always | content-type-json" consider-accept-header="true" parse-date="true" namespace-separator="_"
 * namespace-prefix="xmlns" attribute-block-name="#attrs"/>`: the request (inbound) or response body from JSON to XML,
 * Content-Type becoming application/xml.
 */
export const jsonToXml = definePolicy({
  name: 'json-to-xml',
  sections: ['inbound', 'outbound', 'on-error'],
  attributes: {
    apply: { kind: 'enum', values: ['always', 'content-type-json'], required: true },
    'consider-accept-header': { kind: 'bool', default: true },
    'parse-date': { kind: 'bool', expressions: false, default: true },
    'namespace-separator': { kind: 'string' },
    'namespace-prefix': { kind: 'string' },
    'attribute-block-name': { kind: 'string' },
  },
  compile(node, env) {
    const apply = env.attr(node, 'apply', { kind: 'enum', values: ['always', 'content-type-json'], required: true });
    if (!apply) return undefined;
    const considerAccept = env.attr(node, 'consider-accept-header', { kind: 'bool' });
    const parseDate = env.attr(node, 'parse-date', { kind: 'bool', expressions: false });
    const separator = env.attr(node, 'namespace-separator', { kind: 'string' });
    const prefix = env.attr(node, 'namespace-prefix', { kind: 'string' });
    const attributeBlock = env.attr(node, 'attribute-block-name', { kind: 'string' });
    return {
      async run(ctx) {
        const response = targetsResponse(env.section, ctx);
        if (!conversionApplies(ctx, response, apply, considerAccept, isJsonMediaType, isXmlMediaType)) return;
        const text = await readBodyText(ctx, response);
        let xml: string;
        try {
          xml = jsonToXmlText(text, {
            parseDate: parseDate?.get(ctx) ?? true,
            namespaceSeparator: separator?.get(ctx) || '_',
            namespacePrefix: prefix?.get(ctx) || undefined,
            attributeBlockName: attributeBlock?.get(ctx) || undefined,
          });
        } catch (error) {
          conversionFailure('json-to-xml', error);
        }
        writeBodyText(ctx, response, xml);
        (response ? ctx.response!.headers : ctx.request.headers).set('Content-Type', ['application/xml']);
      },
    };
  },
});
