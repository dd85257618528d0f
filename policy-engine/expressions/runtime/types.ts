import type { TypeArgument } from './protocol.js';

/**
 * What the emulator knows about a C# type name.
 * - `value`: emulated, with runtime behaviour (casts check it, `new` may construct it).
 * - `host`: an APIM context interface (`IResponse`, `Jwt`…): casts to it are no-ops.
 * - `unsupported`: allowed in APIM expressions but not emulated: using it is a load-time EXPR2010.
 */
export type TypeKind = 'value' | 'host' | 'unsupported';

export interface TypeEntry {
  /** Canonical short name: `Int32`, `String`, `List`1`. */
  name: string;
  /** Full .NET name used in messages: `System.Int32`. */
  full: string;
  kind: TypeKind;
  /** Number of generic parameters (List<T> → 1). */
  arity?: number;
}

const entries: Array<[aliases: string[], entry: TypeEntry]> = [];
const add = (aliases: string[], name: string, full: string, kind: TypeKind = 'value', arity = 0): void => {
  entries.push([aliases, arity ? { name, full, kind, arity } : { name, full, kind }]);
};

// Predefined types and their keywords.
add(['string', 'String'], 'String', 'System.String');
add(['int', 'Int32'], 'Int32', 'System.Int32');
add(['long', 'Int64'], 'Int64', 'System.Int64');
add(['short', 'Int16'], 'Int16', 'System.Int16');
add(['byte', 'Byte'], 'Byte', 'System.Byte');
add(['sbyte', 'SByte'], 'SByte', 'System.SByte');
add(['uint', 'UInt32'], 'UInt32', 'System.UInt32');
add(['ulong', 'UInt64'], 'UInt64', 'System.UInt64');
add(['ushort', 'UInt16'], 'UInt16', 'System.UInt16');
add(['double', 'Double'], 'Double', 'System.Double');
add(['float', 'Single'], 'Single', 'System.Single');
add(['decimal', 'Decimal'], 'Decimal', 'System.Decimal');
add(['bool', 'Boolean'], 'Boolean', 'System.Boolean');
add(['char', 'Char'], 'Char', 'System.Char');
add(['object', 'Object'], 'Object', 'System.Object');
// System
for (const n of ['Math', 'Convert', 'DateTime', 'DateTimeOffset', 'TimeSpan', 'Guid', 'Random', 'Exception', 'Uri', 'UriKind', 'UriPartial', 'BitConverter', 'Array', 'Nullable', 'MidpointRounding', 'DateTimeKind', 'DayOfWeek', 'StringComparison', 'StringSplitOptions', 'StringComparer', 'Enum']) {
  add([n], n, `System.${n}`);
}
for (const n of ['ArgumentException', 'ArgumentNullException', 'ArgumentOutOfRangeException', 'InvalidOperationException', 'NotSupportedException', 'NotImplementedException', 'FormatException', 'InvalidCastException', 'NullReferenceException', 'KeyNotFoundException', 'IndexOutOfRangeException', 'DivideByZeroException', 'OverflowException', 'UnauthorizedAccessException', 'TimeoutException']) {
  add([n], n, n === 'KeyNotFoundException' ? 'System.Collections.Generic.KeyNotFoundException' : `System.${n}`);
}
add(['Encoding'], 'Encoding', 'System.Text.Encoding');
add(['StringBuilder'], 'StringBuilder', 'System.Text.StringBuilder');
add(['Regex'], 'Regex', 'System.Text.RegularExpressions.Regex');
add(['RegexOptions'], 'RegexOptions', 'System.Text.RegularExpressions.RegexOptions');
add(['Match'], 'Match', 'System.Text.RegularExpressions.Match');
add(['Group'], 'Group', 'System.Text.RegularExpressions.Group');
add(['MatchCollection'], 'MatchCollection', 'System.Text.RegularExpressions.MatchCollection');
for (const n of ['GroupCollection', 'Capture', 'CaptureCollection']) add([n], n, `System.Text.RegularExpressions.${n}`);
add(['Enumerable'], 'Enumerable', 'System.Linq.Enumerable');
add(['WebUtility'], 'WebUtility', 'System.Net.WebUtility');
add(['IPAddress'], 'IPAddress', 'System.Net.IPAddress');
add(['AddressFamily'], 'AddressFamily', 'System.Net.Sockets.AddressFamily');
add(['Queue'], 'Queue`1', 'System.Collections.Generic.Queue`1', 'value', 1);
add(['Stack'], 'Stack`1', 'System.Collections.Generic.Stack`1', 'value', 1);
add(['List'], 'List`1', 'System.Collections.Generic.List`1', 'value', 1);
add(['HashSet'], 'HashSet`1', 'System.Collections.Generic.HashSet`1', 'value', 1);
add(['Dictionary'], 'Dictionary`2', 'System.Collections.Generic.Dictionary`2', 'value', 2);
add(['KeyValuePair'], 'KeyValuePair`2', 'System.Collections.Generic.KeyValuePair`2', 'value', 2);
for (const [n, arity] of [['IEnumerable', 1], ['IList', 1], ['ICollection', 1], ['IReadOnlyList', 1], ['IReadOnlyCollection', 1], ['IDictionary', 2], ['IReadOnlyDictionary', 2]] as const) {
  add([n], `${n}\`${arity}`, `System.Collections.Generic.${n}\`${arity}`, 'value', arity);
}
// Newtonsoft.Json
for (const n of ['JObject', 'JArray', 'JToken', 'JValue', 'JProperty', 'JContainer', 'JTokenType']) add([n], n, `Newtonsoft.Json.Linq.${n}`);
add(['JsonConvert'], 'JsonConvert', 'Newtonsoft.Json.JsonConvert');
add(['Formatting'], 'Formatting', 'Newtonsoft.Json.Formatting');
// Crypto (node:crypto backed)
for (const n of [
  'SHA256', 'SHA1', 'SHA384', 'SHA512', 'MD5', 'HMACSHA256', 'HMACSHA1', 'HMACSHA384', 'HMACSHA512', 'HMACMD5',
  'SHA256Managed', 'SHA1Managed', 'SHA384Managed', 'SHA512Managed', 'HashAlgorithm', 'HMAC', 'KeyedHashAlgorithm', 'HashAlgorithmName',
  'RNGCryptoServiceProvider',
]) {
  add([n], n, `System.Security.Cryptography.${n}`);
}
// System.Xml.Linq (read-only navigation, runtime/xml.ts)
for (const n of ['XDocument', 'XElement', 'XAttribute', 'XName']) add([n], n, `System.Xml.Linq.${n}`);
// APIM context model: casts are no-ops.
for (const n of ['IProxyRequestContext', 'IRequest', 'IResponse', 'IMessageBody', 'IUrl', 'IApi', 'IOperation', 'IProduct', 'ISubscription', 'IUser', 'IGroup', 'IDeployment', 'ILastError', 'IPrivateEndpointConnection', 'IUserIdentity', 'ISubscriptionKeyParameterNames', 'IWorkspace', 'Jwt', 'Authorization', 'BasicAuthCredentials']) {
  add([n], n, n, 'host');
}
// Allowed by APIM, not emulated (policy-engine/expressions/reference-types.ts says why): refused at load, EXPR2010.
for (const full of [
  'System.Xml.Linq.XNamespace', 'System.Xml.Linq.XNode', 'System.Xml.Linq.XCData', 'System.Xml.Linq.XComment', 'System.Xml.Linq.XContainer',
  'System.Xml.Linq.XDeclaration', 'System.Xml.Linq.XDocumentType', 'System.Xml.Linq.XNodeDocumentOrderComparer', 'System.Xml.Linq.XNodeEqualityComparer',
  'System.Xml.Linq.XObject', 'System.Xml.Linq.XProcessingInstruction', 'System.Xml.Linq.XText', 'System.Xml.XmlNodeType',
  'System.Security.Cryptography.RSA', 'System.Security.Cryptography.Aes', 'System.Security.Cryptography.AesManaged',
  'System.Security.Cryptography.AsymmetricAlgorithm', 'System.Security.Cryptography.SymmetricAlgorithm', 'System.Security.Cryptography.CipherMode',
  'System.Security.Cryptography.PaddingMode', 'System.Security.Cryptography.Oid', 'System.Security.Cryptography.RSAEncryptionPadding',
  'System.Security.Cryptography.RSASignaturePadding', 'System.Security.Cryptography.X509Certificates.X509Certificate2',
  'System.Security.Cryptography.X509Certificates.X509Certificate', 'System.Security.Cryptography.X509Certificates.PublicKey',
  'System.Security.Cryptography.X509Certificates.RSACertificateExtensions', 'System.Security.Cryptography.X509Certificates.X500DistinguishedName',
  'System.Security.Cryptography.X509Certificates.X509ContentType', 'System.Security.Cryptography.X509Certificates.X509NameType',
  'System.IO.StringReader', 'System.IO.StringWriter', 'System.TimeZone', 'System.TimeZoneInfo', 'System.Tuple',
  'Newtonsoft.Json.Linq.JRaw', 'Newtonsoft.Json.Linq.JConstructor', 'Newtonsoft.Json.JsonSerializer',
]) {
  const n = full.slice(full.lastIndexOf('.') + 1);
  add([n], n, full, 'unsupported');
}
add(['ISet'], 'ISet`1', 'System.Collections.Generic.ISet`1', 'unsupported', 1);
add(['IEnumerator'], 'IEnumerator`1', 'System.Collections.Generic.IEnumerator`1', 'unsupported', 1);

const BY_ALIAS = new Map<string, TypeEntry>();
const BY_NAME = new Map<string, TypeEntry>();
for (const [aliases, entry] of entries) {
  for (const a of aliases) BY_ALIAS.set(a, entry);
  BY_NAME.set(entry.name, entry);
}

/** Namespaces whose members may be written fully qualified (`System.Net.WebUtility`, `Newtonsoft.Json.Linq.JObject`). */
export const NAMESPACES: ReadonlySet<string> = new Set([
  'System', 'System.Text', 'System.Linq', 'System.Net', 'System.Net.Sockets', 'System.Collections', 'System.Collections.Generic',
  'System.Text.RegularExpressions', 'System.Security', 'System.Security.Cryptography', 'System.Security.Cryptography.X509Certificates',
  'System.Xml', 'System.Xml.Linq', 'System.IO', 'Newtonsoft', 'Newtonsoft.Json', 'Newtonsoft.Json.Linq',
]);

/** Looks a type up by the name written in code (alias, short name or namespace-qualified name). */
export function lookupType(written: string): TypeEntry | undefined {
  const direct = BY_ALIAS.get(written);
  if (direct) return direct;
  const dot = written.lastIndexOf('.');
  if (dot > 0 && NAMESPACES.has(written.slice(0, dot))) {
    const entry = BY_ALIAS.get(written.slice(dot + 1));
    // Keywords are never namespace-qualified (`System.int` is not C#).
    if (entry && /^[A-Z]/.test(written.slice(dot + 1))) return entry;
  }
  return undefined;
}

export function typeEntry(name: string): TypeEntry | undefined {
  return BY_NAME.get(name);
}

export const INTEGRAL_TYPES: ReadonlySet<string> = new Set(['Int32', 'Int64', 'Int16', 'Byte', 'SByte', 'UInt32', 'UInt64', 'UInt16']);
export const FLOATING_TYPES: ReadonlySet<string> = new Set(['Double', 'Single', 'Decimal']);

export function isNumericType(name: string): boolean {
  return INTEGRAL_TYPES.has(name) || FLOATING_TYPES.has(name);
}

export const INTEGRAL_RANGES: Record<string, [number, number]> = {
  Int32: [-2147483648, 2147483647],
  Int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  Int16: [-32768, 32767],
  Byte: [0, 255],
  SByte: [-128, 127],
  UInt32: [0, 4294967295],
  UInt64: [0, Number.MAX_SAFE_INTEGER],
  UInt16: [0, 65535],
};

export function simpleType(name: string): TypeArgument {
  return { name, args: [], arrays: 0, nullable: false };
}

/** `List<String>`, `Int32[]`, `Int32?` — for messages. */
export function displayType(t: TypeArgument, full = true): string {
  const entry = BY_NAME.get(t.name);
  let base = full ? (entry?.full ?? t.name) : t.name;
  if (t.args.length) {
    base = base.replace(/`\d+$/, '');
    base += full ? `\`${t.args.length}[${t.args.map((a) => `[${displayType(a, true)}]`).join(',')}]` : `<${t.args.map((a) => displayType(a, false)).join(',')}>`;
  }
  if (t.nullable) base = full ? `System.Nullable\`1[${base}]` : `${base}?`;
  return base + '[]'.repeat(t.arrays);
}
