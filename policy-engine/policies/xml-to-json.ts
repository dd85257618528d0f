import { definePolicy } from './define.js';
import { conversionApplies, conversionFailure } from './shared/conversion-gate.js';
import { readBodyText, targetsResponse, writeBodyText } from './shared/message-body.js';
import { isJsonMediaType, isXmlMediaType, xmlToJsonText } from './shared/xml-json.js';

/**
 * `<xml-to-json kind="javascript-friendly | direct" apply="always | content-type-xml" consider-accept-header="true"
 * always-array-child-elements="false"/>`: the request (inbound) or response body from XML to JSON (Newtonsoft's
 * SerializeXmlNode form), Content-Type becoming application/json.
 */
export const xmlToJson = definePolicy({
  name: 'xml-to-json',
  sections: ['inbound', 'outbound', 'on-error'],
  attributes: {
    kind: { kind: 'enum', values: ['javascript-friendly', 'direct'], required: true },
    apply: { kind: 'enum', values: ['always', 'content-type-xml'], required: true },
    'consider-accept-header': { kind: 'bool', default: true },
    'always-array-child-elements': { kind: 'bool', default: false },
  },
  compile(node, env) {
    const kind = env.attr(node, 'kind', { kind: 'enum', values: ['javascript-friendly', 'direct'], required: true });
    const apply = env.attr(node, 'apply', { kind: 'enum', values: ['always', 'content-type-xml'], required: true });
    if (!kind || !apply) return undefined;
    const considerAccept = env.attr(node, 'consider-accept-header', { kind: 'bool' });
    const alwaysArray = env.attr(node, 'always-array-child-elements', { kind: 'bool' });
    return {
      async run(ctx) {
        const response = targetsResponse(env.section, ctx);
        if (!conversionApplies(ctx, response, apply, considerAccept, isXmlMediaType, isJsonMediaType)) return;
        const text = await readBodyText(ctx, response);
        let json: string;
        try {
          json = xmlToJsonText(text, { kind: kind.get(ctx) as 'direct' | 'javascript-friendly', alwaysArrayChildElements: alwaysArray?.get(ctx) ?? false });
        } catch (error) {
          conversionFailure('xml-to-json', error);
        }
        writeBodyText(ctx, response, json);
        (response ? ctx.response!.headers : ctx.request.headers).set('Content-Type', ['application/json']);
      },
    };
  },
});
