import { XMLValidator } from 'fast-xml-parser';
import { toCSharpString } from '../expressions/index.js';
import { PolicyError } from '../pipeline/last-error.js';
import type { PolicyElement } from '../xml/model.js';
import { definePolicy, type ValueSource } from './define.js';
import { readBodyText, targetsResponse, writeBodyText } from './shared/message-body.js';

const SOURCE = 'xsl-transform';
const XSL_NAMESPACE = 'http://www.w3.org/1999/XSL/Transform';

/** XSLT 1.0 elements (the version .NET's XslCompiledTransform, APIM's processor, implements). */
const XSLT_1_ELEMENTS = new Set([
  'stylesheet', 'transform', 'template', 'apply-templates', 'call-template', 'with-param', 'param', 'variable', 'value-of', 'copy',
  'copy-of', 'if', 'choose', 'when', 'otherwise', 'for-each', 'sort', 'element', 'attribute', 'attribute-set', 'text', 'comment',
  'processing-instruction', 'number', 'output', 'strip-space', 'preserve-space', 'key', 'decimal-format', 'namespace-alias',
  'message', 'fallback', 'apply-imports',
]);
/** XSLT 1.0 elements the emulator refuses: they load other files, which APIM's gateway does not resolve either. */
const REFUSED_ELEMENTS: Record<string, string> = {
  include: 'xsl:include loads another stylesheet file; inline it',
  import: 'xsl:import loads another stylesheet file; inline it',
};

/**
 * `<xsl-transform><parameter parameter-name="…">value | @(expr)</parameter><xsl:stylesheet version="1.0" …>…
 * </xsl:stylesheet></xsl-transform>`: the request (inbound) or response (outbound) body transformed by the
 * stylesheet, with each parameter bound to the `xsl:param` of its name. The processor is xslt-processor (an XSLT 1.0
 * processor in TypeScript, no native code); the stylesheet is checked at load: elements outside XSLT 1.0,
 * `xsl:include`/`xsl:import` and `msxsl:script` are refused with their position. As .NET writes it, `method="xml"`
 * output starts with `<?xml version="1.0" encoding="utf-8"?>` unless `omit-xml-declaration="yes"`. A body that is
 * not well-formed XML, or a transformation error, fails the request (on-error, Source xsl-transform).
 *
 * The reference's statement names the parameter attribute `parameter-name`, its example `name`: both are accepted.
 */
export const xslTransform = definePolicy({
  name: SOURCE,
  sections: ['inbound', 'outbound'],
  partial: "xslt-processor's XSLT 1.0 (not .NET's XslCompiledTransform): msxsl extension functions and scripts, xsl:include/xsl:import and document() of other files are not available",
  attributes: {},
  children: 'markup',
  compile(node, env) {
    const parameters: Array<{ name: string; value: ValueSource<string> }> = [];
    const stylesheets: PolicyElement[] = [];
    let ok = true;
    for (const child of node.children) {
      if (child.name === 'parameter') {
        const name = child.attributes.find((a) => a.name === 'parameter-name' || a.name === 'name');
        for (const a of child.attributes) if (a.name !== 'parameter-name' && a.name !== 'name') env.report('PolUnknownAttribute', a.nameSpan, ['parameter', a.name]);
        if (!name) {
          env.report('PolMissingAttribute', child.nameSpan, ['parameter', 'parameter-name']);
          ok = false;
          continue;
        }
        parameters.push({ name: name.value, value: env.text(child, { trim: true }) ?? { isExpression: false, constant: '', get: () => '' } });
      } else if (child.name === 'xsl:stylesheet' || child.name === 'xsl:transform') stylesheets.push(child);
      else {
        env.report('PolInvalidChild', child.nameSpan, [node.name, child.name]);
        ok = false;
      }
    }
    if (stylesheets.length !== 1) {
      env.report(stylesheets.length === 0 ? 'PolMissingChild' : 'PolAttributeConflict', (stylesheets[1] ?? node).nameSpan, [node.name, stylesheets.length === 0 ? 'xsl:stylesheet' : 'only one xsl:stylesheet is allowed.']);
      return undefined;
    }
    const stylesheet = stylesheets[0]!;
    const checkElements = (element: PolicyElement) => {
      const [prefix, local] = element.name.includes(':') ? element.name.split(':', 2) : ['', element.name];
      if (prefix === 'xsl') {
        const refused = REFUSED_ELEMENTS[local!];
        if (refused || !XSLT_1_ELEMENTS.has(local!)) {
          env.report('PolInvalidChild', element.nameSpan, [node.name, `${element.name}`]);
          if (refused) env.report('PolAttributeConflict', element.nameSpan, [node.name, refused]);
          ok = false;
        }
      } else if (prefix === 'msxsl' && local === 'script') {
        env.report('PolAttributeConflict', element.nameSpan, [node.name, 'msxsl:script (C# in the stylesheet) is not supported']);
        ok = false;
      }
      element.children.forEach(checkElements);
    };
    checkElements(stylesheet);
    const xmlns = stylesheet.attributes.find((a) => a.name === 'xmlns:xsl');
    if (xmlns?.value !== XSL_NAMESPACE) {
      env.report('PolInvalidAttributeValue', xmlns?.valueSpan ?? stylesheet.nameSpan, [stylesheet.name, 'xmlns:xsl', xmlns?.value ?? '', `expected ${XSL_NAMESPACE}`]);
      ok = false;
    }
    if (!ok) return undefined;
    const inner = env.innerMarkup(node);
    const start = inner.indexOf(`<${stylesheet.name}`);
    const end = inner.lastIndexOf(`</${stylesheet.name}>`);
    const markup = start >= 0 && end > start ? inner.slice(start, end + stylesheet.name.length + 3) : inner.trim();
    const output = stylesheet.children.find((c) => c.name === 'xsl:output');
    const method = output?.attributes.find((a) => a.name === 'method')?.value.trim() ?? 'xml';
    const omitDeclaration = output?.attributes.find((a) => a.name === 'omit-xml-declaration')?.value.trim() === 'yes';
    const declaration = method === 'xml' && !omitDeclaration ? '<?xml version="1.0" encoding="utf-8"?>' : '';
    return {
      async run(ctx) {
        const response = targetsResponse(env.section, ctx);
        const input = await readBodyText(ctx, response);
        const valid = XMLValidator.validate(input);
        if (valid !== true) throw failure(`The ${response ? 'response' : 'request'} body is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}).`);
        const values = parameters.map((p) => ({ name: p.name, value: toCSharpString(p.value.get(ctx)) }));
        const { Xslt, XmlParser } = await import('xslt-processor'); // loaded at the first transformation, not at start
        const xslt = new Xslt({
          parameters: values,
          fetchFunction: (uri) => Promise.reject(new Error(`'${uri}' is not loaded: the emulator resolves no external documents.`)),
          documentLoader: () => null,
        });
        // Ambiguous-match warnings (the reference's own examples have them) are not errors in .NET either.
        (xslt as unknown as { warningsCallback: () => void }).warningsCallback = () => {};
        let text: string;
        try {
          const parser = new XmlParser();
          text = await xslt.xsltProcess(parser.xmlParse(input), parser.xmlParse(markup));
        } catch (error) {
          throw failure(`The transformation failed: ${(error as Error).message}`);
        }
        writeBodyText(ctx, response, declaration && !text.startsWith('<?xml') ? `${declaration}${text}` : text);
      },
    };
  },
});

function failure(message: string): PolicyError {
  return new PolicyError({ source: SOURCE, reason: 'XslTransformFailure', message });
}
