import type { RequestContext } from '../pipeline/types.js';
import { definePolicy } from './define.js';

const PARAMETER = /\{([^{}]+)\}/g;

/**
 * `<rewrite-uri template="/path/{param}?q={param}" copy-unmatched-params="true"/>`: changes the URL sent to the backend.
 * `{param}` is taken from `context.Request.MatchedParameters` (path parameters, and query parameters named in the
 * operation's URL template), else from the request's query string; an unknown parameter becomes empty (with a
 * warning). The template's path replaces the operation path (what follows the backend base URL) and its query
 * replaces the query string; with `copy-unmatched-params` (default true) the request's query parameters that are not
 * in the operation's URL template, not used by the template and not already set by it are appended.
 */
export const rewriteUri = definePolicy({
  name: 'rewrite-uri',
  sections: ['inbound'],
  attributes: {
    template: { kind: 'string', required: true },
    'copy-unmatched-params': { kind: 'bool', default: true },
  },
  compile(node, env) {
    const template = env.attr(node, 'template', { kind: 'string', required: true });
    const copyUnmatched = env.attr(node, 'copy-unmatched-params', { kind: 'bool', default: true });
    if (!template || !copyUnmatched) return undefined;
    if (!template.isExpression) {
      const attr = node.attributes.find((a) => a.name === 'template')!;
      const problem = templateProblem(template.constant!);
      if (problem) {
        env.report('PolInvalidAttributeValue', attr.valueSpan, [node.name, 'template', attr.value, problem]);
        return undefined;
      }
    }
    return {
      run(ctx) {
        rewrite(ctx, template.get(ctx), copyUnmatched.get(ctx));
      },
    };
  },
});

function templateProblem(template: string): string | undefined {
  if (template.trim() === '') return 'a template is required';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(template.trim())) return 'the template is a path relative to the backend URL, not an absolute URL';
  const unbalanced = template.replace(PARAMETER, '').search(/[{}]/);
  if (unbalanced >= 0) return `unbalanced '${template.replace(PARAMETER, '')[unbalanced]}' in the template`;
  return undefined;
}

function rewrite(ctx: RequestContext, template: string, copyUnmatched: boolean): void {
  const request = ctx.request;
  const current = request.url.searchParams;
  const { values: templateQueryValues, keys: templateQueryKeys } = operationTemplateQuery(ctx.operation.UrlTemplate, current);
  const used = new Set<string>();
  const lookup = (name: string): string => {
    used.add(name);
    const value = request.matchedParameters[name] ?? templateQueryValues.get(name) ?? current.get(name);
    if (value === undefined || value === null) {
      ctx.warnings.push(`rewrite-uri: template parameter '{${name}}' has no value; it was replaced by an empty string.`);
      return '';
    }
    return value;
  };
  const queryStart = template.indexOf('?');
  const pathTemplate = (queryStart < 0 ? template : template.slice(0, queryStart)).trim();
  const queryTemplate = queryStart < 0 ? '' : template.slice(queryStart + 1);

  let path = pathTemplate.replace(PARAMETER, (_, name: string) => encodePathValue(lookup(name.trim())));
  if (!path.startsWith('/')) path = `/${path}`;

  const query = new URLSearchParams();
  for (const pair of queryTemplate.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    const substitute = (text: string) => text.replace(PARAMETER, (_, name: string) => lookup(name.trim()));
    query.append(substitute(safeDecode(rawKey)), substitute(safeDecode(rawValue)));
  }
  if (copyUnmatched) {
    for (const [key, value] of current) {
      if (key in request.matchedParameters || templateQueryKeys.has(key) || used.has(key) || query.has(key)) continue;
      query.append(key, value);
    }
  }

  const prefix = apiPrefix(request.url.pathname, request.operationPath, ctx.api.Path);
  request.operationPath = path;
  request.url.pathname = `${prefix}${path}`;
  request.url.search = query.toString();
}

/** Parameters named in the query part of the operation's URL template (`?api-version={api-version}`). */
function operationTemplateQuery(urlTemplate: string, query: URLSearchParams): { values: Map<string, string>; keys: Set<string> } {
  const values = new Map<string, string>();
  const keys = new Set<string>();
  const start = urlTemplate.indexOf('?');
  if (start < 0) return { values, keys };
  for (const pair of urlTemplate.slice(start + 1).split('&')) {
    const m = /^([^=]+)=\{([^{}]+)\}$/.exec(pair);
    if (!m) continue;
    keys.add(m[1]!);
    const value = query.get(m[1]!);
    if (value !== null) values.set(m[2]!, value);
  }
  return { values, keys };
}

/** The part of the gateway URL path before the operation path (the API's path). */
function apiPrefix(pathname: string, operationPath: string, apiPath: string): string {
  if (pathname.toLowerCase().endsWith(operationPath.toLowerCase())) return pathname.slice(0, pathname.length - operationPath.length).replace(/\/+$/, '');
  return apiPath === '' ? '' : `/${apiPath.replace(/^\/+|\/+$/g, '')}`;
}

function encodePathValue(value: string): string {
  return value.split('/').map(encodeURIComponent).join('/');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
