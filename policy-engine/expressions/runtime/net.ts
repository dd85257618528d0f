import { isIPv4, isIPv6 } from 'node:net';
import { clrErrors } from './errors.js';
import { OutRef, TYPE_NAME } from './protocol.js';
import { CsEnum } from './values.js';

/**
 * `System.Net.IPAddress` with the members the expression reference allows: `Parse`, `TryParse`, `GetAddressBytes`,
 * `AddressFamily`, `IsLoopback`, `Equals`, `ToString` (plus the `Any`/`Loopback`/`None`/`IPv6Loopback` constants).
 */
export const AddressFamily = CsEnum.define('AddressFamily', { Unknown: -1, Unspecified: 0, InterNetwork: 2, InterNetworkV6: 23 });

export class CsIPAddress {
  readonly [TYPE_NAME] = 'System.Net.IPAddress';
  /** JS-private: expressions see only the C# members. */
  readonly #bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get AddressFamily(): CsEnum {
    return this.#bytes.length === 4 ? AddressFamily.InterNetwork! : AddressFamily.InterNetworkV6!;
  }
  get IsIPv4MappedToIPv6(): boolean {
    return this.#bytes.length === 16 && this.#bytes.slice(0, 10).every((b) => b === 0) && this.#bytes[10] === 0xff && this.#bytes[11] === 0xff;
  }
  GetAddressBytes(): Uint8Array {
    return this.#bytes.slice();
  }
  get IsLoopbackAddress(): boolean {
    return this.#bytes.length === 4 ? this.#bytes[0] === 127 : this.#bytes.every((b, i) => b === (i === 15 ? 1 : 0));
  }
  Equals(other: unknown): boolean {
    return other instanceof CsIPAddress && other.#bytes.length === this.#bytes.length && other.#bytes.every((b, i) => b === this.#bytes[i]);
  }
  MapToIPv4(): CsIPAddress {
    return this.#bytes.length === 4 ? this : new CsIPAddress(this.#bytes.slice(12));
  }
  MapToIPv6(): CsIPAddress {
    if (this.#bytes.length === 16) return this;
    const b = new Uint8Array(16);
    b[10] = 0xff;
    b[11] = 0xff;
    b.set(this.#bytes, 12);
    return new CsIPAddress(b);
  }
  ToString(): string {
    if (this.#bytes.length === 4) return Array.from(this.#bytes).join('.');
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((this.#bytes[i]! << 8) | this.#bytes[i + 1]!).toString(16));
    // The longest run (≥ 2) of zero groups becomes '::', as .NET and RFC 5952 print it.
    let best = -1;
    let bestLen = 1;
    for (let i = 0; i < 8; ) {
      let j = i;
      while (j < 8 && groups[j] === '0') j++;
      if (j - i > bestLen) [best, bestLen] = [i, j - i];
      i = j === i ? i + 1 : j;
    }
    if (best < 0) return groups.join(':');
    return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  }
}

function parseIp(text: string): CsIPAddress | undefined {
  const s = text.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIPv4(s)) return new CsIPAddress(Uint8Array.from(s.split('.').map(Number)));
  if (isIPv6(s.replace(/%.*$/, ''))) {
    // WHATWG URL normalizes the text (embedded IPv4 becomes two hex groups).
    const host = new URL(`http://[${s.replace(/%.*$/, '')}]/`).hostname.slice(1, -1);
    const [head = '', tail = ''] = host.includes('::') ? host.split('::') : [host, ''];
    const expand = (part: string) => (part ? part.split(':') : []);
    let groups = [...expand(head)];
    const rest = expand(tail);
    if (host.includes('::')) groups = [...groups, ...Array<string>(8 - groups.length - rest.length).fill('0'), ...rest];
    const bytes = new Uint8Array(16);
    groups.forEach((g, i) => {
      const n = parseInt(g, 16);
      bytes[2 * i] = n >> 8;
      bytes[2 * i + 1] = n & 0xff;
    });
    return new CsIPAddress(bytes);
  }
  return undefined;
}

export function ipParse(s: unknown): CsIPAddress {
  if (s === null || s === undefined) throw clrErrors.argumentNull('ipString');
  const ip = parseIp(String(s));
  if (!ip) throw clrErrors.format('An invalid IP address was specified.');
  return ip;
}

export function ipTryParse([s, out]: unknown[]): boolean {
  const ip = s === null || s === undefined ? undefined : parseIp(String(s));
  (out as OutRef).value = ip ?? null;
  return ip !== undefined;
}

export function ipIsLoopback(ip: unknown): boolean {
  if (!(ip instanceof CsIPAddress)) throw clrErrors.argumentNull('address');
  return ip.IsLoopbackAddress;
}

export const IP_CONSTANTS = {
  Any: new CsIPAddress(new Uint8Array(4)),
  Loopback: new CsIPAddress(Uint8Array.from([127, 0, 0, 1])),
  Broadcast: new CsIPAddress(Uint8Array.from([255, 255, 255, 255])),
  None: new CsIPAddress(Uint8Array.from([255, 255, 255, 255])),
  IPv6Any: new CsIPAddress(new Uint8Array(16)),
  IPv6Loopback: new CsIPAddress(Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 1 : 0))),
};
