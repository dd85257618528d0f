import { rootCertificates } from 'node:tls';
import type { Agent, Dispatcher } from 'undici';
import type { RequestContext, TlsClientCertificate } from '../../policy-engine/index.js';

/**
 * Calls to HTTP backends that need more than the global fetch: a client certificate (authentication-certificate),
 * an HTTP proxy (proxy), or an HTTPS backend while config `certificates` has CA certificates (APIM validates backend
 * certificate chains against its uploaded CA certificates too). Both go through undici's Agent / ProxyAgent (the maintained HTTP client behind Node's
 * fetch, whose dispatchers take TLS options and proxies). Server certificates are checked against Node's roots
 * plus the CA certificates of config `certificates`. Dispatchers are reused per certificate and proxy. undici (~0.16 s of
 * imports) loads at the first such call; plain calls use the global fetch.
 */
export function createBackendFetch(): (ctx: RequestContext, url: string, init: RequestInit) => Promise<Response> {
  const dispatchers = new Map<string, Dispatcher>();
  const materials = new WeakMap<object, string>();
  let nextMaterial = 0;
  const materialKey = (m: TlsClientCertificate) => {
    let key = materials.get(m);
    if (key === undefined) materials.set(m, (key = String(nextMaterial++)));
    return key;
  };
  let undici: Promise<typeof import('undici')> | undefined;
  return function backendFetch(ctx, url, init) {
    const certificate = ctx.backendClientCertificate;
    const proxy = ctx.proxy;
    const cas = (ctx.services.certificates?.trustedCas() ?? []).map((c) => c.x509.toString());
    if (!certificate && !proxy && (cas.length === 0 || !url.toLowerCase().startsWith('https:'))) return fetch(url, init);
    return viaUndici(url, init, certificate, proxy, cas);
  };
  async function viaUndici(url: string, init: RequestInit, certificate: RequestContext['backendClientCertificate'], proxy: RequestContext['proxy'], cas: string[]): Promise<Response> {
    const tunnel = !url.toLowerCase().startsWith('http:');
    const { Agent, ProxyAgent, fetch: undiciFetch } = await (undici ??= import('undici'));
    const key = `${certificate ? materialKey(certificate) : '-'}|${proxy ? `${proxy.url}|${proxy.username ?? ''}|${proxy.password ?? ''}|${tunnel}` : '-'}|${cas.length}`;
    let dispatcher = dispatchers.get(key);
    if (!dispatcher) {
      const tls = certificate && 'pfx' in certificate ? { ...certificate, pfx: Buffer.from(certificate.pfx) } : certificate;
      const connect: Agent.Options['connect'] & object = { ...(tls ?? {}), ...(cas.length > 0 ? { ca: [...rootCertificates, ...cas] } : {}) };
      if (proxy) {
        if (!/^http:\/\//i.test(proxy.url)) return Promise.reject(new TypeError('fetch failed', { cause: new Error(`Proxy URL '${proxy.url}' is not http:// (only HTTP is supported between the gateway and the proxy).`) }));
        const token = proxy.username !== undefined ? `Basic ${Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64')}` : undefined;
        dispatcher = new ProxyAgent({ uri: proxy.url, ...(token ? { token } : {}), requestTls: connect, proxyTunnel: tunnel });
      } else {
        dispatcher = new Agent({ connect });
      }
      // Bounded: policies computing a certificate per request would otherwise keep one agent each.
      if (dispatchers.size >= 64) {
        const [oldest] = dispatchers;
        dispatchers.delete(oldest![0]);
        void oldest![1].close().catch(() => {});
      }
      dispatchers.set(key, dispatcher);
    }
    return undiciFetch(url, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher }) as unknown as Promise<Response>;
  }
}
