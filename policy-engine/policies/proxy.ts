import { definePolicy } from './define.js';

/**
 * `<proxy url="http://host:port" username password/>`: forward-request (or, inside send-request, that request)
 * goes through an HTTP proxy. Only HTTP between the gateway and the proxy, as APIM documents; `username` and
 * `password` are sent as Basic `Proxy-Authorization`. NTLM proxy authentication is not emulated.
 */
export const proxy = definePolicy({
  name: 'proxy',
  sections: ['inbound'],
  partial: 'Basic proxy authentication only (no NTLM); in-process mock backends are called directly',
  attributes: {
    url: { kind: 'string', required: true },
    username: { kind: 'string' },
    password: { kind: 'string' },
  },
  compile(node, env) {
    const url = env.attr(node, 'url', { kind: 'string', required: true });
    const username = env.attr(node, 'username', { kind: 'string' });
    const password = env.attr(node, 'password', { kind: 'string' });
    if (!url) return undefined;
    if (url.constant !== undefined && !/^http:\/\/[^/]+/i.test(url.constant.trim())) {
      const attribute = node.attributes.find((a) => a.name === 'url')!;
      env.report('PolInvalidAttributeValue', attribute.valueSpan, [node.name, 'url', url.constant, 'expected http://host:port (only HTTP is supported between the gateway and the proxy)']);
      return undefined;
    }
    return {
      run(ctx) {
        const user = username?.get(ctx);
        const pass = password?.get(ctx);
        ctx.proxy = { url: url.get(ctx).trim(), ...(user !== undefined ? { username: user } : {}), ...(pass !== undefined ? { password: pass } : {}) };
      },
    };
  },
});
