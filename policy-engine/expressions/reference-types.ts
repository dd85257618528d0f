/**
 * The .NET types Microsoft's expression reference allows in policy expressions, and what the emulator does with each.
 *
 * Source: [D:api-management-policy-expressions.md] "· .NET Framework types allowed in policy expressions", ms.date
 * 03/07/2023 (MicrosoftDocs/azure-docs, articles/api-management/api-management-policy-expressions.md): the table's
 * rows in its order, with its "Supported members" column. `EXPRESSION_TYPE_SUPPORT` gives the emulator's status per
 * row; test/policy-engine/expressions/reference-types.test.ts fails when a row has no status, and checks that every
 * type marked "not emulated" is refused at load (EXPR2010, naming the type, at its position).
 */

/** [type as the reference writes it, the reference's "Supported members"]. */
export const EXPRESSION_REFERENCE_TYPES: ReadonlyArray<readonly [string, string]> = [
  ['Newtonsoft.Json.Formatting', 'All'],
  ['Newtonsoft.Json.JsonConvert', 'SerializeObject, DeserializeObject'],
  ['Newtonsoft.Json.Linq.Extensions', 'All'],
  ['Newtonsoft.Json.Linq.JArray', 'All'],
  ['Newtonsoft.Json.Linq.JConstructor', 'All'],
  ['Newtonsoft.Json.Linq.JContainer', 'All'],
  ['Newtonsoft.Json.Linq.JObject', 'All'],
  ['Newtonsoft.Json.Linq.JProperty', 'All'],
  ['Newtonsoft.Json.Linq.JRaw', 'All'],
  ['Newtonsoft.Json.Linq.JToken', 'All'],
  ['Newtonsoft.Json.Linq.JTokenType', 'All'],
  ['Newtonsoft.Json.Linq.JValue', 'All'],
  ['System.Array', 'All'],
  ['System.BitConverter', 'All'],
  ['System.Boolean', 'All'],
  ['System.Byte', 'All'],
  ['System.Char', 'All'],
  ['System.Collections.Generic.Dictionary<TKey, TValue>', 'All'],
  ['System.Collections.Generic.HashSet<T>', 'All'],
  ['System.Collections.Generic.ICollection<T>', 'All'],
  ['System.Collections.Generic.IDictionary<TKey, TValue>', 'All'],
  ['System.Collections.Generic.IEnumerable<T>', 'All'],
  ['System.Collections.Generic.IEnumerator<T>', 'All'],
  ['System.Collections.Generic.IList<T>', 'All'],
  ['System.Collections.Generic.IReadOnlyCollection<T>', 'All'],
  ['System.Collections.Generic.IReadOnlyDictionary<TKey, TValue>', 'All'],
  ['System.Collections.Generic.ISet<T>', 'All'],
  ['System.Collections.Generic.KeyValuePair<TKey, TValue>', 'All'],
  ['System.Collections.Generic.List<T>', 'All'],
  ['System.Collections.Generic.Queue<T>', 'All'],
  ['System.Collections.Generic.Stack<T>', 'All'],
  ['System.Convert', 'All'],
  ['System.DateTime', '(Constructor), Add, AddDays, AddHours, AddMilliseconds, AddMinutes, AddMonths, AddSeconds, AddTicks, AddYears, Date, Day, DayOfWeek, DayOfYear, DaysInMonth, Hour, IsDaylightSavingTime, IsLeapYear, MaxValue, Millisecond, Minute, MinValue, Month, Now, Parse, Second, Subtract, Ticks, TimeOfDay, Today, ToString, UtcNow, Year'],
  ['System.DateTimeKind', 'Utc'],
  ['System.DateTimeOffset', 'All'],
  ['System.Decimal', 'All'],
  ['System.Double', 'All'],
  ['System.Enum', 'Parse, TryParse, ToString'],
  ['System.Exception', 'All'],
  ['System.Guid', 'All'],
  ['System.Int16', 'All'],
  ['System.Int32', 'All'],
  ['System.Int64', 'All'],
  ['System.IO.StringReader', 'All'],
  ['System.IO.StringWriter', 'All'],
  ['System.Linq.Enumerable', 'All'],
  ['System.Math', 'All'],
  ['System.MidpointRounding', 'All'],
  ['System.Net.IPAddress', 'AddressFamily, Equals, GetAddressBytes, IsLoopback, Parse, TryParse, ToString'],
  ['System.Net.WebUtility', 'All'],
  ['System.Nullable', 'All'],
  ['System.Random', 'All'],
  ['System.SByte', 'All'],
  ['System.Security.Cryptography.AsymmetricAlgorithm', 'All'],
  ['System.Security.Cryptography.CipherMode', 'All'],
  ['System.Security.Cryptography.HashAlgorithm', 'All'],
  ['System.Security.Cryptography.HashAlgorithmName', 'All'],
  ['System.Security.Cryptography.HMAC', 'All'],
  ['System.Security.Cryptography.HMACMD5', 'All'],
  ['System.Security.Cryptography.HMACSHA1', 'All'],
  ['System.Security.Cryptography.HMACSHA256', 'All'],
  ['System.Security.Cryptography.HMACSHA384', 'All'],
  ['System.Security.Cryptography.HMACSHA512', 'All'],
  ['System.Security.Cryptography.KeyedHashAlgorithm', 'All'],
  ['System.Security.Cryptography.MD5', 'All'],
  ['System.Security.Cryptography.Oid', 'All'],
  ['System.Security.Cryptography.PaddingMode', 'All'],
  ['System.Security.Cryptography.RNGCryptoServiceProvider', 'All'],
  ['System.Security.Cryptography.RSA', 'All'],
  ['System.Security.Cryptography.RSAEncryptionPadding', 'All'],
  ['System.Security.Cryptography.RSASignaturePadding', 'All'],
  ['System.Security.Cryptography.SHA1', 'All'],
  ['System.Security.Cryptography.SHA1Managed', 'All'],
  ['System.Security.Cryptography.SHA256', 'All'],
  ['System.Security.Cryptography.SHA256Managed', 'All'],
  ['System.Security.Cryptography.SHA384', 'All'],
  ['System.Security.Cryptography.SHA384Managed', 'All'],
  ['System.Security.Cryptography.SHA512', 'All'],
  ['System.Security.Cryptography.SHA512Managed', 'All'],
  ['System.Security.Cryptography.SymmetricAlgorithm', 'All except parameterless Create()'],
  ['System.Security.Cryptography.X509Certificates.PublicKey', 'All'],
  ['System.Security.Cryptography.X509Certificates.RSACertificateExtensions', 'All'],
  ['System.Security.Cryptography.X509Certificates.X500DistinguishedName', 'Name'],
  ['System.Security.Cryptography.X509Certificates.X509Certificate', 'All'],
  ['System.Security.Cryptography.X509Certificates.X509Certificate2', 'All'],
  ['System.Security.Cryptography.X509Certificates.X509ContentType', 'All'],
  ['System.Security.Cryptography.X509Certificates.X509NameType', 'All'],
  ['System.Single', 'All'],
  ['System.String', 'All'],
  ['System.StringComparer', 'All'],
  ['System.StringComparison', 'All'],
  ['System.StringSplitOptions', 'All'],
  ['System.Text.Encoding', 'All'],
  ['System.Text.RegularExpressions.Capture', 'Index, Length, Value'],
  ['System.Text.RegularExpressions.CaptureCollection', 'Count, Item'],
  ['System.Text.RegularExpressions.Group', 'Captures, Success'],
  ['System.Text.RegularExpressions.GroupCollection', 'Count, Item'],
  ['System.Text.RegularExpressions.Match', 'Empty, Groups, Result'],
  ['System.Text.RegularExpressions.Regex', '(Constructor), IsMatch, Match, Matches, Replace, Unescape, Split'],
  ['System.Text.RegularExpressions.RegexOptions', 'All'],
  ['System.Text.StringBuilder', 'All'],
  ['System.TimeSpan', 'All'],
  ['System.TimeZone', 'All'],
  ['System.TimeZoneInfo.AdjustmentRule', 'All'],
  ['System.TimeZoneInfo.TransitionTime', 'All'],
  ['System.TimeZoneInfo', 'All'],
  ['System.Tuple', 'All'],
  ['System.UInt16', 'All'],
  ['System.UInt32', 'All'],
  ['System.UInt64', 'All'],
  ['System.Uri', 'All'],
  ['System.UriPartial', 'All'],
  ['System.Xml.Linq.Extensions', 'All'],
  ['System.Xml.Linq.XAttribute', 'All'],
  ['System.Xml.Linq.XCData', 'All'],
  ['System.Xml.Linq.XComment', 'All'],
  ['System.Xml.Linq.XContainer', 'All'],
  ['System.Xml.Linq.XDeclaration', 'All'],
  ['System.Xml.Linq.XDocument', 'All, except Load'],
  ['System.Xml.Linq.XDocumentType', 'All'],
  ['System.Xml.Linq.XElement', 'All'],
  ['System.Xml.Linq.XName', 'All'],
  ['System.Xml.Linq.XNamespace', 'All'],
  ['System.Xml.Linq.XNode', 'All'],
  ['System.Xml.Linq.XNodeDocumentOrderComparer', 'All'],
  ['System.Xml.Linq.XNodeEqualityComparer', 'All'],
  ['System.Xml.Linq.XObject', 'All'],
  ['System.Xml.Linq.XProcessingInstruction', 'All'],
  ['System.Xml.Linq.XText', 'All'],
  ['System.Xml.XmlNodeType', 'All'],
];

export type TypeSupportStatus = 'supported' | 'partial' | 'not emulated';

export interface TypeSupport {
  status: TypeSupportStatus;
  /** partial: what is emulated (members, or what is missing); not emulated: why. Optional detail for supported. */
  note?: string;
  /**
   * How code names it, when not the last segment of the reference name: `false` for types that code never names
   * (extension-method containers, interfaces only reached through values, nested types).
   */
  written?: string | false;
}

const S = (note?: string, written?: string | false): TypeSupport => ({ status: 'supported', ...(note ? { note } : {}), ...(written !== undefined ? { written } : {}) });
const P = (note: string, written?: string | false): TypeSupport => ({ status: 'partial', note, ...(written !== undefined ? { written } : {}) });
const N = (note: string, written?: string | false): TypeSupport => ({ status: 'not emulated', note, ...(written !== undefined ? { written } : {}) });

const X509 = 'certificates and RSA keys are not emulated in expressions (no key material offline; the certificate policies are emulated separately)';
const TZ = 'time zones are not emulated: the emulator runs in UTC (Local = UTC)';
const XML_BUILD = 'building or editing XML is not emulated (System.Xml.Linq is read-only: runtime/xml.ts)';

/** The emulator's status for each row of `EXPRESSION_REFERENCE_TYPES`, keyed by the reference's type name. */
export const EXPRESSION_TYPE_SUPPORT: Readonly<Record<string, TypeSupport>> = {
  'Newtonsoft.Json.Formatting': S(),
  'Newtonsoft.Json.JsonConvert': S('SerializeObject(value[, Formatting]), DeserializeObject[<T>]; date-like strings stay strings'),
  'Newtonsoft.Json.Linq.Extensions': P('Value<T> (and ToObject<T>) on a token; the extensions over sequences (Values<T>, Children() of IEnumerable<JToken>) are not emulated', false),
  'Newtonsoft.Json.Linq.JArray': S('Parse, FromObject, indexer, Add/Insert/Remove/RemoveAt/Clear, Count, Contains, IndexOf, LINQ'),
  'Newtonsoft.Json.Linq.JConstructor': N('JSON constructors (a Newtonsoft extension to JSON) are not emulated'),
  'Newtonsoft.Json.Linq.JContainer': S('as the base of JObject/JArray/JProperty (casts, is/as, Count, Children)'),
  'Newtonsoft.Json.Linq.JObject': S('Parse, FromObject, indexer, Property(ies), Add/Remove, ContainsKey, TryGetValue, GetValue, Merge, SelectToken, ToString(Formatting)'),
  'Newtonsoft.Json.Linq.JProperty': S('Name, Value, constructor'),
  'Newtonsoft.Json.Linq.JRaw': N('raw JSON tokens are not emulated (JToken.Parse gives the same tree)'),
  'Newtonsoft.Json.Linq.JToken': S('Parse, FromObject, SelectToken, Value<T>, ToObject<T>, Type, Path, Parent/Root, Children, DeepClone, explicit casts'),
  'Newtonsoft.Json.Linq.JTokenType': S(),
  'Newtonsoft.Json.Linq.JValue': S('CreateNull, CreateString, Value, Type, constructor'),
  'System.Array': P('Copy, Exists, Find/FindAll/FindIndex/FindLast/FindLastIndex, IndexOf/LastIndexOf, TrueForAll, ConvertAll, ForEach, Reverse, Sort, Clear, Fill, Empty, Length; not Resize (ref arguments), CreateInstance (needs typeof)'),
  'System.BitConverter': S('GetBytes (overload by static type), To{Int16,UInt16,Int32,UInt32,Int64,UInt64,Single,Double,Boolean,Char}, ToString, IsLittleEndian, DoubleToInt64Bits; 64-bit values beyond 2^53 lose precision'),
  'System.Boolean': S(),
  'System.Byte': S(),
  'System.Char': S('IsDigit/IsLetter/IsLetterOrDigit/IsWhiteSpace/IsUpper/IsLower/IsNumber/IsPunctuation, ToUpper/ToLower'),
  'System.Collections.Generic.Dictionary<TKey, TValue>': S(undefined, 'Dictionary'),
  'System.Collections.Generic.HashSet<T>': S(undefined, 'HashSet'),
  'System.Collections.Generic.ICollection<T>': S('casts and is/as; members through the value', 'ICollection'),
  'System.Collections.Generic.IDictionary<TKey, TValue>': S('casts and is/as; members through the value', 'IDictionary'),
  'System.Collections.Generic.IEnumerable<T>': S('casts and is/as; LINQ', 'IEnumerable'),
  'System.Collections.Generic.IEnumerator<T>': N('explicit enumerators (GetEnumerator/MoveNext/Current) are not emulated; use foreach or LINQ', 'IEnumerator'),
  'System.Collections.Generic.IList<T>': S('casts and is/as; members through the value', 'IList'),
  'System.Collections.Generic.IReadOnlyCollection<T>': S('casts and is/as; members through the value', 'IReadOnlyCollection'),
  'System.Collections.Generic.IReadOnlyDictionary<TKey, TValue>': S('casts and is/as; members through the value', 'IReadOnlyDictionary'),
  'System.Collections.Generic.ISet<T>': N('the ISet<T> interface is not emulated (HashSet<T> is)', 'ISet'),
  'System.Collections.Generic.KeyValuePair<TKey, TValue>': S(undefined, 'KeyValuePair'),
  'System.Collections.Generic.List<T>': S(undefined, 'List'),
  'System.Collections.Generic.Queue<T>': S('Enqueue, Dequeue, Peek, TryDequeue, TryPeek, Count, Contains, Clear, ToArray, foreach', 'Queue'),
  'System.Collections.Generic.Stack<T>': S('Push, Pop, Peek, TryPop, TryPeek, Count, Contains, Clear, ToArray, foreach', 'Stack'),
  'System.Convert': S('To{Boolean,Byte,SByte,Char,Int16,UInt16,Int32,UInt32,Int64,UInt64,Single,Double,Decimal,DateTime,String} (bases 2/8/10/16), To/FromBase64String, To/FromHexString'),
  'System.DateTime': S('the listed members plus ToUniversalTime, ParseExact, TryParse, Kind, formats (invariant culture, UTC as local time)'),
  'System.DateTimeKind': S(),
  'System.DateTimeOffset': S('UtcNow, Now, Parse, FromUnixTime*, ToUnixTime*, Add*, Offset, UtcDateTime, ToString'),
  'System.Decimal': P('a JS double (28-digit precision is not kept)'),
  'System.Double': S(),
  'System.Enum': P('TryParse<T>(value[, ignoreCase], out T) and ToString; Enum.Parse(typeof(T), …) needs typeof, which is not supported'),
  'System.Exception': S('constructors, Message, InnerException, throw/catch with the standard exception types'),
  'System.Guid': S('NewGuid (the scope random source), Parse, TryParse, Empty, ToString(format), ToByteArray, new Guid(string|byte[])'),
  'System.Int16': S(),
  'System.Int32': S(),
  'System.Int64': P('a JS double: exact up to 2^53; shifts and bitwise operators are 64-bit'),
  'System.IO.StringReader': N('text readers are not emulated (no XmlReader either)'),
  'System.IO.StringWriter': N('text writers are not emulated; use StringBuilder'),
  'System.Linq.Enumerable': S('eager LINQ: Select, Where, Any, All, First/Last/Single[OrDefault], Count, Sum, Min, Max, Average, OrderBy/ThenBy, GroupBy, Distinct, Skip/Take, Concat, Union, Intersect, Except, SelectMany, Aggregate, Zip, ToArray/ToList/ToDictionary, Range, Repeat, Empty …'),
  'System.Math': S('banker\'s rounding as .NET'),
  'System.MidpointRounding': S(),
  'System.Net.IPAddress': S('Parse, TryParse, GetAddressBytes, AddressFamily, IsLoopback, Equals, ToString, MapToIPv4/IPv6, Any/Loopback/None'),
  'System.Net.WebUtility': S('UrlEncode, UrlDecode, HtmlEncode, HtmlDecode'),
  'System.Nullable': S('T? with HasValue, Value, GetValueOrDefault, ??'),
  'System.Random': P('Next, NextDouble, NextBytes; seeded instances are deterministic but not .NET\'s sequence'),
  'System.SByte': S(),
  'System.Security.Cryptography.AsymmetricAlgorithm': N(X509),
  'System.Security.Cryptography.CipherMode': N('Encrypt/Decrypt take the algorithm name; CBC (.NET\'s default) is what the emulator uses'),
  'System.Security.Cryptography.HashAlgorithm': S('Create(name), ComputeHash(bytes[, offset, count]), Hash, HashSize'),
  'System.Security.Cryptography.HashAlgorithmName': S('MD5, SHA1, SHA256, SHA384, SHA512, Name'),
  'System.Security.Cryptography.HMAC': S('Create(name), Key, ComputeHash'),
  'System.Security.Cryptography.HMACMD5': S(),
  'System.Security.Cryptography.HMACSHA1': S(),
  'System.Security.Cryptography.HMACSHA256': S(),
  'System.Security.Cryptography.HMACSHA384': S(),
  'System.Security.Cryptography.HMACSHA512': S(),
  'System.Security.Cryptography.KeyedHashAlgorithm': S('Create(name)'),
  'System.Security.Cryptography.MD5': S(),
  'System.Security.Cryptography.Oid': N(X509),
  'System.Security.Cryptography.PaddingMode': N('Encrypt/Decrypt take the algorithm name; PKCS7 (.NET\'s default) is what the emulator uses'),
  'System.Security.Cryptography.RNGCryptoServiceProvider': S('GetBytes, GetNonZeroBytes from the scope random source (deterministic in tests, not cryptographic)'),
  'System.Security.Cryptography.RSA': N(X509),
  'System.Security.Cryptography.RSAEncryptionPadding': N(X509),
  'System.Security.Cryptography.RSASignaturePadding': N(X509),
  'System.Security.Cryptography.SHA1': S(),
  'System.Security.Cryptography.SHA1Managed': S(),
  'System.Security.Cryptography.SHA256': S(),
  'System.Security.Cryptography.SHA256Managed': S(),
  'System.Security.Cryptography.SHA384': S(),
  'System.Security.Cryptography.SHA384Managed': S(),
  'System.Security.Cryptography.SHA512': S(),
  'System.Security.Cryptography.SHA512Managed': S(),
  'System.Security.Cryptography.SymmetricAlgorithm': N('instances are not emulated; byte[].Encrypt/Decrypt("Aes", key, iv) is'),
  'System.Security.Cryptography.X509Certificates.PublicKey': N(X509),
  'System.Security.Cryptography.X509Certificates.RSACertificateExtensions': N(X509),
  'System.Security.Cryptography.X509Certificates.X500DistinguishedName': N(X509),
  'System.Security.Cryptography.X509Certificates.X509Certificate': N(X509),
  'System.Security.Cryptography.X509Certificates.X509Certificate2': N(X509),
  'System.Security.Cryptography.X509Certificates.X509ContentType': N(X509),
  'System.Security.Cryptography.X509Certificates.X509NameType': N(X509),
  'System.Single': P('a JS double (no float rounding)'),
  'System.String': S('ordinal/invariant members and string.* statics'),
  'System.StringComparer': S('Ordinal, OrdinalIgnoreCase, InvariantCulture[IgnoreCase], CurrentCulture[IgnoreCase]'),
  'System.StringComparison': S(),
  'System.StringSplitOptions': S(),
  'System.Text.Encoding': S('UTF8, ASCII, Unicode, Default, GetEncoding(name): GetBytes, GetString, GetByteCount'),
  'System.Text.RegularExpressions.Capture': S(),
  'System.Text.RegularExpressions.CaptureCollection': P('Count, indexer; a repeated group has its last capture only (JavaScript RegExp keeps one)'),
  'System.Text.RegularExpressions.Group': P('Success, Value, Index, Length, Name, Captures (the last capture only); numbered as .NET (unnamed groups first)'),
  'System.Text.RegularExpressions.GroupCollection': S('Count, indexer by number or name, foreach'),
  'System.Text.RegularExpressions.Match': S('Empty, Groups, Result (.NET replacement tokens), Success, Value, Index, Length, NextMatch'),
  'System.Text.RegularExpressions.Regex': S('.NET pattern and replacement syntax over JS RegExp; a catastrophic pattern is not interrupted'),
  'System.Text.RegularExpressions.RegexOptions': S(),
  'System.Text.StringBuilder': S('Append, AppendLine, Insert, Replace, Clear, Length, ToString'),
  'System.TimeSpan': S(),
  'System.TimeZone': N(TZ),
  'System.TimeZoneInfo.AdjustmentRule': N(TZ, false),
  'System.TimeZoneInfo.TransitionTime': N(TZ, false),
  'System.TimeZoneInfo': N(TZ),
  'System.Tuple': N('System.Tuple and C# tuples are not emulated; use anonymous objects or KeyValuePair'),
  'System.UInt16': S(),
  'System.UInt32': S(),
  'System.UInt64': P('a JS double: exact up to 2^53'),
  'System.Uri': S('constructors (string, UriKind; base + relative), TryCreate, IsWellFormedUriString, Escape/UnescapeDataString, Host, Port, Scheme, AbsoluteUri, AbsolutePath, LocalPath, PathAndQuery, Query, Fragment, Segments, UserInfo, Authority, GetLeftPart, IsBaseOf'),
  'System.UriPartial': S(),
  'System.Xml.Linq.Extensions': P('Elements, Descendants, DescendantsAndSelf, Ancestors, AncestorsAndSelf, Attributes over a sequence of elements; not Nodes, InDocumentOrder, Remove', false),
  'System.Xml.Linq.XAttribute': P('Name, Value, explicit casts (read-only)'),
  'System.Xml.Linq.XCData': N(XML_BUILD),
  'System.Xml.Linq.XComment': N(XML_BUILD),
  'System.Xml.Linq.XContainer': N('the base class is not emulated (XDocument/XElement navigation is)'),
  'System.Xml.Linq.XDeclaration': N(XML_BUILD),
  'System.Xml.Linq.XDocument': P('Parse, Root, Declaration, Element(s), Descendants, ToString; read-only (no new XDocument, Add, Save)'),
  'System.Xml.Linq.XDocumentType': N(XML_BUILD),
  'System.Xml.Linq.XElement': P('Parse, Name, Value, Element(s), Descendants[AndSelf], Ancestors, Attribute(s), Parent, HasElements, HasAttributes, IsEmpty, explicit casts, ToString; read-only (no new XElement, Add, SetValue)'),
  'System.Xml.Linq.XName': S('Get(local, namespace), LocalName, NamespaceName, {ns}local strings'),
  'System.Xml.Linq.XNamespace': N('namespace objects (XNamespace ns = …; ns + "local") are not emulated; write "{namespace}local" names'),
  'System.Xml.Linq.XNode': N('XNode (ReadFrom, node-level navigation) is not emulated; Body.As<XElement>() / As<XDocument>() are'),
  'System.Xml.Linq.XNodeDocumentOrderComparer': N(XML_BUILD),
  'System.Xml.Linq.XNodeEqualityComparer': N(XML_BUILD),
  'System.Xml.Linq.XObject': N('the base class is not emulated (XDocument/XElement/XAttribute are)'),
  'System.Xml.Linq.XProcessingInstruction': N(XML_BUILD),
  'System.Xml.Linq.XText': N(XML_BUILD),
  'System.Xml.XmlNodeType': N('node types are not exposed by the read-only XML model'),
};

/** The short name code writes for a reference type (`System.Collections.Generic.List<T>` → `List`), or undefined. */
export function writtenName(type: string): string | undefined {
  const support = EXPRESSION_TYPE_SUPPORT[type];
  if (support?.written === false) return undefined;
  if (typeof support?.written === 'string') return support.written;
  return type.replace(/<.*$/, '').split('.').pop();
}

/** Counts by status, for the matrix header and the closing note. */
export function expressionTypeCounts(): Record<TypeSupportStatus, number> & { total: number } {
  const counts = { supported: 0, partial: 0, 'not emulated': 0, total: 0 };
  for (const [type] of EXPRESSION_REFERENCE_TYPES) {
    const s = EXPRESSION_TYPE_SUPPORT[type];
    if (s) counts[s.status]++;
    counts.total++;
  }
  return counts;
}

/** The markdown table for the support matrix (README and `policies matrix`). */
export function expressionTypesMatrix(): string[] {
  const c = expressionTypeCounts();
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return [
    `Policy expressions: the ${c.total} .NET types Microsoft's expression reference allows (${c.supported} supported, ${c.partial} partial, ${c['not emulated']} not emulated; using a type that is not emulated is refused at load with EXPR2010 and its position; generated from \`policy-engine/expressions/reference-types.ts\`):`,
    '',
    '| .NET type | reference: members | emulator |',
    '|---|---|---|',
    ...EXPRESSION_REFERENCE_TYPES.map(([type, members]) => {
      const s = EXPRESSION_TYPE_SUPPORT[type];
      const status = !s ? 'not in the table' : s.note ? `${s.status}: ${s.note}` : s.status;
      return `| \`${type.replace(/`/g, '')}\` | ${cell(members)} | ${cell(status)} |`;
    }),
  ];
}
