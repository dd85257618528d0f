import type { ResolvedApi } from '../config/load.js';

export interface RouteMatch {
  api: ResolvedApi;
  operation: ResolvedApi['operations'][number];
  /** Path below the API path, as sent to the backend (original casing). */
  operationPath: string;
  matchedParameters: Record<string, string>;
}

interface CompiledOperation {
  operation: ResolvedApi['operations'][number];
  pattern: RegExp;
  names: string[];
  literalSegments: number;
}

interface CompiledApi {
  api: ResolvedApi;
  prefix: string;
  operations: CompiledOperation[];
}

/** Matches requests to API (longest path prefix) and operation (method + URL template). Compiled once. */
export class RouteTable {
  private readonly apis: CompiledApi[];

  constructor(apis: readonly ResolvedApi[]) {
    this.apis = apis
      .map((api) => ({
        api,
        prefix: api.path === '' ? '' : `/${api.path.toLowerCase()}`,
        operations: api.operations.map(compileOperation).sort((a, b) => b.literalSegments - a.literalSegments),
      }))
      .sort((a, b) => b.prefix.length - a.prefix.length);
  }

  match(method: string, pathname: string): RouteMatch | undefined {
    const lower = pathname.toLowerCase();
    for (const entry of this.apis) {
      if (entry.prefix !== '' && lower !== entry.prefix && !lower.startsWith(`${entry.prefix}/`)) continue;
      const operationPath = pathname.slice(entry.prefix.length) || '/';
      for (const op of entry.operations) {
        if (op.operation.method !== method.toUpperCase() && op.operation.method !== '*') continue;
        const m = op.pattern.exec(operationPath);
        if (!m) continue;
        const matchedParameters: Record<string, string> = {};
        op.names.forEach((name, i) => (matchedParameters[name] = safeDecode(m[i + 1] ?? '')));
        return { api: entry.api, operation: op.operation, operationPath, matchedParameters };
      }
    }
    return undefined;
  }
}

function compileOperation(operation: ResolvedApi['operations'][number]): CompiledOperation {
  const names: string[] = [];
  let literalSegments = 0;
  const template = operation.urlTemplate.split('?')[0]!.replace(/\/+$/, '');
  const source = template
    .split('/')
    .filter((s) => s !== '')
    .map((segment) => {
      const wildcard = /^\{\*([^}]+)\}$/.exec(segment);
      if (wildcard) {
        names.push(wildcard[1]!);
        return '(?:/(.*))?';
      }
      literalSegments++;
      let out = '/';
      let last = 0;
      for (const m of segment.matchAll(/\{([^}]+)\}/g)) {
        out += escapeRegExp(segment.slice(last, m.index));
        names.push(m[1]!);
        out += '([^/]+)';
        last = m.index! + m[0].length;
      }
      return out + escapeRegExp(segment.slice(last));
    })
    .join('');
  return { operation, pattern: new RegExp(`^${source}/?$`, 'i'), names, literalSegments };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
