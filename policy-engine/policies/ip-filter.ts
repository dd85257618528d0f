import { BlockList, isIP } from 'node:net';
import { apimErrorBody, PolicyError } from '../pipeline/last-error.js';
import type { RequestContext } from '../pipeline/types.js';
import { definePolicy, type ValueSource } from './define.js';

/**
 * `<ip-filter action="allow|forbid"><address>…</address><address-range from="…" to="…"/></ip-filter>`:
 * `allow` lets only the listed callers through, `forbid` refuses them; refused callers get 403 with APIM's
 * predefined messages (CallerIpNotAllowed / CallerIpBlocked, FailedToParseCallerIP when the caller's address is
 * not an IP). The caller is `context.Request.IpAddress` (the socket's address; X-Forwarded-For is not read).
 * IPv4 and IPv6 are matched with node:net's BlockList.
 */
export const ipFilter = definePolicy({
  name: 'ip-filter',
  sections: ['inbound'],
  attributes: {
    action: { kind: 'enum', values: ['allow', 'forbid'], required: true },
  },
  children: ['address', 'address-range'],
  compile(node, env) {
    const action = env.attr(node, 'action', { kind: 'enum', values: ['allow', 'forbid'], required: true });
    let ok = true;
    const addresses: ValueSource<string>[] = [];
    const ranges: Array<{ from: ValueSource<string>; to: ValueSource<string> }> = [];
    for (const child of node.children) {
      if (child.name === 'address') {
        for (const a of child.attributes) env.report('PolUnknownAttribute', a.nameSpan, ['address', a.name]);
        const text = env.text(child, { trim: true });
        if (!text) ok = false;
        else if (!text.isExpression && !isIP(text.constant!)) {
          env.report('PolInvalidAttributeValue', child.text?.span ?? child.nameSpan, [node.name, 'address', text.constant!, 'not an IPv4 or IPv6 address']);
          ok = false;
        } else addresses.push(text);
      } else if (child.name === 'address-range') {
        for (const a of child.attributes) if (a.name !== 'from' && a.name !== 'to') env.report('PolUnknownAttribute', a.nameSpan, ['address-range', a.name]);
        const from = env.attr(child, 'from', { kind: 'string', required: true });
        const to = env.attr(child, 'to', { kind: 'string', required: true });
        if (!from || !to) ok = false;
        else {
          for (const [name, v] of [['from', from], ['to', to]] as const) {
            if (!v.isExpression && !isIP(v.constant!)) {
              const attr = child.attributes.find((a) => a.name === name)!;
              env.report('PolInvalidAttributeValue', attr.valueSpan, ['address-range', name, v.constant!, 'not an IPv4 or IPv6 address']);
              ok = false;
            }
          }
          ranges.push({ from, to });
        }
      }
    }
    if (addresses.length === 0 && ranges.length === 0) {
      env.report('PolMissingChild', node.nameSpan, [node.name, 'address> or <address-range']);
      ok = false;
    }
    if (!action || !ok) return undefined;
    const dynamic = addresses.some((a) => a.isExpression) || ranges.some((r) => r.from.isExpression || r.to.isExpression);
    const build = (ctx: RequestContext) => {
      const list = new BlockList();
      for (const a of addresses) {
        const ip = a.get(ctx).trim();
        const family = isIP(ip);
        if (family) list.addAddress(ip, family === 6 ? 'ipv6' : 'ipv4');
      }
      for (const r of ranges) {
        const from = r.from.get(ctx).trim();
        const to = r.to.get(ctx).trim();
        const family = isIP(from);
        if (family && family === isIP(to)) {
          try {
            list.addRange(from, to, family === 6 ? 'ipv6' : 'ipv4');
          } catch {
            // from > to: an empty range
          }
        }
      }
      return list;
    };
    const fixed = dynamic ? undefined : build(undefined as unknown as RequestContext);
    const refuse = (reason: string, message: string): never => {
      throw new PolicyError({ source: 'ip-filter', reason, message, response: { statusCode: 403, body: apimErrorBody(403, message) } });
    };
    return {
      run(ctx) {
        const ip = ctx.request.ipAddress;
        const family = isIP(ip);
        if (!family) refuse('FailedToParseCallerIP', 'Failed to establish IP address for the caller. Access denied.');
        const listed = (fixed ?? build(ctx)).check(ip, family === 6 ? 'ipv6' : 'ipv4');
        const allow = action.get(ctx) === 'allow';
        if (allow && !listed) refuse('CallerIpNotAllowed', `Caller IP address ${ip} is not allowed. Access denied.`);
        if (!allow && listed) refuse('CallerIpBlocked', 'Caller IP address is blocked. Access denied.');
      },
    };
  },
});
