import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compileExpression, expressionSource, ExpressionRuntimeError, toCSharpString } from '../../../policy-engine/expressions/index.js';
import { DEFAULT_EVALUATION_LIMITS } from '../../../policy-engine/expressions/runtime/limits.js';
import { fakeContext, NOW, type FakeContextOptions } from './fake-context.js';

/**
 * The .NET members real policy files call (issue 14, scope 2), one describe block per family, with C# semantics:
 * results as C# prints them (`toCSharpString`) and .NET's exception types.
 */
function run(code: string, options: FakeContextOptions = {}): unknown {
  const kind = code.trimStart().startsWith('{') ? 'block' : 'expression';
  const { expression, diagnostics } = compileExpression(expressionSource(kind === 'block' ? code.trim().slice(1, -1) : code, kind));
  if (!expression) throw new Error(`did not compile: ${diagnostics.map((d) => `${d.code} ${d.message}`).join('; ')}`);
  const v = expression.evaluate({ context: fakeContext(options), now: () => NOW, random: () => 0.25 });
  return v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'object' && v !== null ? toCSharpString(v) : v;
}

function exception(code: string, options: FakeContextOptions = {}): string {
  try {
    run(code, options);
  } catch (error) {
    if (error instanceof ExpressionRuntimeError) return `${error.exceptionType}: ${error.message}`;
    throw error;
  }
  throw new Error(`no exception from ${code}`);
}

function diagnostics(code: string, kind: 'expression' | 'block' = 'expression'): string[] {
  return compileExpression(expressionSource(code, kind)).diagnostics.map((d) => `${d.code} ${d.message}`);
}

describe('Body.As<XElement>() / XDocument / XElement navigation', () => {
  const soap = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetQuote xmlns="urn:q"><Symbol a="1">MSFT</Symbol><Symbol a="2">AAPL</Symbol></GetQuote></s:Body></s:Envelope>';
  it('reads the request body as XElement / XDocument and navigates with expanded names', () => {
    const opts = { requestBody: soap };
    expect(run('context.Request.Body.As<XElement>(preserveContent: true).Name.LocalName', opts)).toBe('Envelope');
    expect(run('context.Request.Body.As<XDocument>(true).Root.Name.NamespaceName', opts)).toBe('http://schemas.xmlsoap.org/soap/envelope/');
    expect(run('context.Request.Body.As<XElement>(true).Element("{http://schemas.xmlsoap.org/soap/envelope/}Body").Elements().First().Name.LocalName', opts)).toBe('GetQuote');
    expect(run('string.Join(",", context.Request.Body.As<XDocument>(true).Descendants("{urn:q}Symbol").Select(s => s.Value))', opts)).toBe('MSFT,AAPL');
    expect(run('context.Request.Body.As<XDocument>(true).Descendants("{urn:q}Symbol").Last().Attribute("a").Value', opts)).toBe('2');
    expect(run('context.Request.Body.As<XElement>(true).Attribute("missing") == null', opts)).toBe(true);
  });
  it('an empty body reads as null; XNode (not emulated) is refused at load with its name and position', () => {
    expect(run('context.Request.Body.As<XElement>() == null', { requestBody: '' })).toBe(true);
    const { diagnostics: d } = compileExpression(expressionSource('context.Request.Body.As<XNode>()'));
    expect(d.map((x) => [x.code, x.message, x.span.start])).toEqual([['EXPR2010', "The type 'XNode' is not supported by the emulator in policy expressions.", 24]]);
  });
});

describe('System.Xml.Linq.Extensions over sequences', () => {
  it('Elements / Attributes / Descendants / AncestorsAndSelf apply to each element of a sequence, in order', () => {
    const doc = 'XDocument.Parse("<r><a x=\\"1\\"><b>1</b><b>2</b></a><a x=\\"2\\"><b>3</b></a></r>")';
    expect(run(`string.Join(",", ${doc}.Root.Elements("a").Elements("b").Select(b => b.Value))`)).toBe('1,2,3');
    expect(run(`string.Join(",", ${doc}.Root.Elements("a").Attributes("x").Select(a => a.Value))`)).toBe('1,2');
    expect(run(`${doc}.Root.Elements().Descendants("b").Count()`)).toBe(3);
    expect(run(`${doc}.Descendants("b").First().AncestorsAndSelf().Count()`)).toBe(3);
  });
});

describe('AsJwt() / Jwt members', () => {
  const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const token = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ iss: 'iss', aud: 'api', nbf: 1700000000, exp: 1800000000, scp: 'a b' })}.sig`;
  it('reads the Jwt members; a malformed token is null (no exception)', () => {
    expect(run(`"${token}".AsJwt().Audiences.Single()`)).toBe('api');
    expect(run(`"${token}".AsJwt().NotBefore.Value.Year`)).toBe(2023);
    expect(run(`"${token}".AsJwt().Claims["scp"][0]`)).toBe('a b');
    expect(run(`"${token}".AsJwt().IssuedAt.HasValue`)).toBe(false);
    expect(run('"eyJhbGciOiJIUzI1NiJ9.not-json.sig".AsJwt() == null')).toBe(true);
    expect(run('"Bearer".AsJwt() == null')).toBe(true);
  });
});

describe('AsBasic() / BasicAuthCredentials', () => {
  it('decodes "Basic base64(user:password)" into UserId and Password (the reference names); malformed input is null', () => {
    const header = `Basic ${Buffer.from('svc:s3cr:et').toString('base64')}`;
    expect(run(`"${header}".AsBasic().UserId`)).toBe('svc');
    expect(run(`"${header}".AsBasic().Password`)).toBe('s3cr:et');
    expect(run(`{ BasicAuthCredentials c; return "${header}".TryParseBasic(out c) ? c.UserId : "no"; }`)).toBe('svc');
    expect(run('"Basic ***".AsBasic() == null')).toBe(true);
  });
});

describe('AsFormUrlEncodedContent() / ToQueryString / ToFormUrlEncodedContent', () => {
  const opts = { requestBody: 'grant_type=client_credentials&scope=a+b&scope=c%2Fd&empty=' };
  it('is an IDictionary<string, IList<string>> of the decoded fields', () => {
    expect(run('context.Request.Body.AsFormUrlEncodedContent(true)["grant_type"][0]', opts)).toBe('client_credentials');
    expect(run('context.Request.Body.AsFormUrlEncodedContent(true)["scope"].Count', opts)).toBe(2);
    expect(run('context.Request.Body.AsFormUrlEncodedContent(true)["scope"][1]', opts)).toBe('c/d');
    expect(run('context.Request.Body.AsFormUrlEncodedContent(true).ContainsKey("empty")', opts)).toBe(true);
    expect(exception('context.Request.Body.AsFormUrlEncodedContent(true)["nope"]', opts)).toMatch(/^System.Collections.Generic.KeyNotFoundException/);
    expect(run('JsonConvert.SerializeObject(context.Request.Body.AsFormUrlEncodedContent(true))', { requestBody: 'a=1&a=2' })).toBe('{"a":["1","2"]}');
  });
  it('edits and re-encodes (percent-encoded, `?` prefix for ToQueryString, null when empty)', () => {
    const code = `{
      var form = context.Request.Body.AsFormUrlEncodedContent(preserveContent: true);
      form.Remove("empty");
      form["scope"] = new List<string> { "x y" };
      form.Add("redirect", new List<string> { "https://h/cb?a=1" });
      return form.ToFormUrlEncodedContent() + "|" + form.ToQueryString();
    }`;
    expect(run(code, opts)).toBe('grant_type=client_credentials&scope=x%20y&redirect=https%3A%2F%2Fh%2Fcb%3Fa%3D1|?grant_type=client_credentials&scope=x%20y&redirect=https%3A%2F%2Fh%2Fcb%3Fa%3D1');
    expect(run('context.Request.Body.AsFormUrlEncodedContent(true).ToQueryString() == null', { requestBody: '' })).toBe(true);
  });
});

describe('Encrypt / Decrypt (AES)', () => {
  it('Decrypt round-trips Encrypt for 128/192/256-bit keys (the oauth-proxy snippet idiom with a Guid IV)', () => {
    for (const size of [16, 24, 32]) {
      const code = `{
        var key = new byte[${size}]; for (var i = 0; i < key.Length; i++) key[i] = (byte)i;
        var iv = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e").ToByteArray();
        var cipher = Encoding.UTF8.GetBytes("token-${size}").Encrypt("Aes", key, iv);
        return Encoding.UTF8.GetString(Convert.FromBase64String(Convert.ToBase64String(cipher)).Decrypt("Aes", key, iv));
      }`;
      expect(run(code)).toBe(`token-${size}`);
    }
  });
});

describe('System.Security.Cryptography hashing and HMAC', () => {
  const data = 'Encoding.UTF8.GetBytes("The quick brown fox")';
  const key = 'Encoding.UTF8.GetBytes("secret")';
  it('SHA1/SHA256/SHA384/SHA512/MD5 via Create(), the *Managed classes and HashAlgorithm.Create(name) match node:crypto', () => {
    for (const [type, alg] of [['SHA1', 'sha1'], ['SHA256', 'sha256'], ['SHA384', 'sha384'], ['SHA512', 'sha512'], ['MD5', 'md5']] as const) {
      const expected = createHash(alg).update('The quick brown fox').digest('hex');
      expect(run(`${type}.Create().ComputeHash(${data})`)).toBe(expected);
      expect(run(`HashAlgorithm.Create("${type}").ComputeHash(${data})`)).toBe(expected);
      if (type !== 'MD5') expect(run(`new ${type}Managed().ComputeHash(${data})`)).toBe(expected);
    }
    expect(run(`System.Security.Cryptography.SHA256.Create().HashSize`)).toBe(256);
    expect(run(`{ using (var sha = SHA512.Create()) { sha.ComputeHash(${data}); return sha.Hash.Length; } }`)).toBe(64);
    expect(run(`SHA256.Create().ComputeHash(${data}, 4, 5)`)).toBe(createHash('sha256').update('quick').digest('hex'));
  });
  it('HMACSHA1/256/384/512 and HMACMD5 with a key match node:crypto; HMAC.Create(name) and a settable Key', () => {
    for (const [type, alg] of [['HMACSHA1', 'sha1'], ['HMACSHA256', 'sha256'], ['HMACSHA384', 'sha384'], ['HMACSHA512', 'sha512'], ['HMACMD5', 'md5']] as const) {
      const expected = createHmac(alg, 'secret').update('The quick brown fox').digest('hex');
      expect(run(`new ${type}(${key}).ComputeHash(${data})`)).toBe(expected);
      expect(run(`{ var h = HMAC.Create("${type}"); h.Key = ${key}; return h.ComputeHash(${data}); }`)).toBe(expected);
    }
    expect(run('HashAlgorithmName.SHA256.Name')).toBe('SHA256');
    expect(run('HashAlgorithm.Create("nope") == null')).toBe(true);
  });
  it('the Azure Storage/Cosmos SAS idiom: HMACSHA256 over a UTF-8 string, Base64 key and signature', () => {
    const k = Buffer.from('account-key').toString('base64');
    const code = `{ var hmac = new HMACSHA256(Convert.FromBase64String("${k}")); return Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes("get\\ncolls\\n"))); }`;
    expect(run(code)).toBe(createHmac('sha256', 'account-key').update('get\ncolls\n').digest('base64'));
  });
});

describe('Convert', () => {
  it('integral conversions: strings, rounding half to even, chars by code, bases 2/8/16, OverflowException', () => {
    expect(run('Convert.ToByte("200")')).toBe(200);
    expect(run('Convert.ToByte(int.Parse("10"))')).toBe(10);
    expect(run('Convert.ToInt16(2.5)')).toBe(2);
    expect(run("Convert.ToInt32('A')")).toBe(65);
    expect(run('Convert.ToInt32("ff", 16)')).toBe(255);
    expect(run('Convert.ToInt32("ffffffff", 16)')).toBe(-1);
    expect(run('Convert.ToByte("1010", 2)')).toBe(10);
    expect(run('Convert.ToUInt32("4294967295")')).toBe(4294967295);
    expect(exception('Convert.ToByte(300)')).toBe('System.OverflowException: Value was either too large or too small for an unsigned byte.');
    expect(exception('Convert.ToInt16("40000")')).toBe('System.OverflowException: Value was either too large or too small for an Int16.');
    expect(exception('Convert.ToInt32("12a")')).toMatch(/^System.FormatException/);
  });
  it('ToString (culture-invariant, bases), ToChar, ToDateTime, Base64 with offset and length, hex', () => {
    expect(run('Convert.ToString(255, 2)')).toBe('11111111');
    expect(run('Convert.ToString(-1, 16)')).toBe('ffffffff');
    expect(run('Convert.ToString(true)')).toBe('True');
    expect(run('Convert.ToString(1.5)')).toBe('1.5');
    expect(run('Convert.ToString(null) == ""')).toBe(true);
    expect(run('Convert.ToChar(66)')).toBe('B');
    expect(run('Convert.ToDateTime("2024-02-29T10:00:00").DayOfYear')).toBe(60);
    expect(run('Convert.ToBase64String(new byte[] { 1, 2, 3, 4 }, 1, 2)')).toBe('AgM=');
    expect(run('Convert.ToHexString(Convert.FromBase64String("AQID"))')).toBe('010203');
    expect(exception('Convert.FromBase64String("abc")')).toMatch(/^System.FormatException: The input is not a valid Base-64 string/);
  });
});

describe('Uri', () => {
  it('System.Uri members (Query is text, default ports, GetLeftPart, relative combination, unescaped ToString)', () => {
    const u = 'new Uri("https://user@h.example:8443/a/b%20c?x=1&y=2#frag")';
    expect(run(`${u}.Query`)).toBe('?x=1&y=2');
    expect(run(`${u}.Port`)).toBe(8443);
    expect(run('new Uri("https://h.example/").Port')).toBe(443);
    expect(run(`${u}.AbsolutePath`)).toBe('/a/b%20c');
    expect(run(`${u}.LocalPath`)).toBe('/a/b c');
    expect(run(`${u}.Fragment`)).toBe('#frag');
    expect(run(`${u}.UserInfo`)).toBe('user');
    expect(run(`${u}.Authority`)).toBe('h.example:8443');
    expect(run(`${u}.GetLeftPart(UriPartial.Path)`)).toBe('https://user@h.example:8443/a/b%20c');
    expect(run(`string.Join("|", ${u}.Segments)`)).toBe('/|a/|b%20c');
    expect(run(`${u}.ToString()`)).toBe('https://user@h.example:8443/a/b c?x=1&y=2#frag');
    expect(run('new Uri(new Uri("https://h.example/api/v1/"), "chat?x=1").AbsoluteUri')).toBe('https://h.example/api/v1/chat?x=1');
    expect(run('new Uri("/oauth/callback", UriKind.Relative).IsAbsoluteUri')).toBe(false);
    expect(run('new Uri("https://h.example/oauth/x").AbsolutePath.StartsWith("/oauth", StringComparison.InvariantCultureIgnoreCase)')).toBe(true);
  });
  it('TryCreate, IsWellFormedUriString, schemes; bad text is UriFormatException; relative URIs refuse absolute members', () => {
    expect(run('{ Uri u; return Uri.TryCreate("https://h.example/p", UriKind.Absolute, out u) ? u.Host : "no"; }')).toBe('h.example');
    expect(run('{ Uri u; return Uri.TryCreate("not a uri", UriKind.Absolute, out u) || u != null; }')).toBe(false);
    expect(run('Uri.IsWellFormedUriString("https://h.example/p", UriKind.Absolute)')).toBe(true);
    expect(run('Uri.IsWellFormedUriString("http://h/a b", UriKind.Absolute)')).toBe(false);
    expect(run('Uri.UriSchemeHttps + Uri.SchemeDelimiter')).toBe('https://');
    expect(run('Uri.EscapeDataString("a b/c?")')).toBe('a%20b%2Fc%3F');
    expect(exception('new Uri("nope")')).toBe('System.UriFormatException: Invalid URI: The format of the URI could not be determined.');
    expect(exception('new Uri("/rel", UriKind.Relative).Host')).toBe('System.InvalidOperationException: This operation is not supported for a relative URI.');
  });
});

describe('Encoding (UTF8, ASCII, Unicode)', () => {
  it('GetBytes / GetString / GetByteCount / GetEncoding', () => {
    expect(run('Encoding.UTF8.GetBytes("é€")')).toBe('c3a9e282ac');
    expect(run('Encoding.UTF8.GetString(Encoding.UTF8.GetBytes("héllo"))')).toBe('héllo');
    expect(run('Encoding.ASCII.GetBytes("aé")')).toBe('613f');
    expect(run('Encoding.ASCII.GetString(new byte[] { 72, 105, 200 })')).toBe('Hi?');
    expect(run('Encoding.Unicode.GetBytes("ab")')).toBe('61006200');
    expect(run('Encoding.Unicode.GetString(new byte[] { 97, 0, 98, 0 })')).toBe('ab');
    expect(run('Encoding.UTF8.GetString(Encoding.UTF8.GetBytes("abcdef"), 1, 3)')).toBe('bcd');
    expect(run('Encoding.UTF8.GetByteCount("€")')).toBe(3);
    expect(run('Encoding.GetEncoding("utf-8").GetString(new byte[] { 111, 107 })')).toBe('ok');
  });
});

describe('BitConverter', () => {
  it('GetBytes by the argument\'s static type, little-endian readers, ToString ranges, IsLittleEndian', () => {
    expect(run('BitConverter.GetBytes(1)')).toBe('01000000');
    expect(run('BitConverter.GetBytes(1L)')).toBe('0100000000000000');
    expect(run('BitConverter.GetBytes((short)-2)')).toBe('feff');
    expect(run('BitConverter.GetBytes(true)')).toBe('01');
    expect(run('BitConverter.GetBytes(1.5)')).toBe('000000000000f83f');
    expect(run('BitConverter.ToInt32(new byte[] { 0, 0, 0, 1, 0 }, 1)')).toBe(65536);
    expect(run('BitConverter.ToInt32(new byte[] { 255, 255, 255, 255 }, 0)')).toBe(-1);
    expect(run('BitConverter.ToUInt32(new byte[] { 255, 255, 255, 255 }, 0)')).toBe(4294967295);
    expect(run('BitConverter.ToInt16(new byte[] { 1, 2 }, 0)')).toBe(513);
    expect(run('BitConverter.ToInt64(BitConverter.GetBytes(1234567890123L), 0)')).toBe(1234567890123);
    expect(run('BitConverter.ToDouble(BitConverter.GetBytes(2.25), 0)')).toBe(2.25);
    expect(run('BitConverter.ToString(new byte[] { 1, 171, 255 }, 1)')).toBe('AB-FF');
    expect(run('BitConverter.ToString(new byte[] { 1, 171, 255 }, 0, 2)')).toBe('01-AB');
    expect(run('BitConverter.IsLittleEndian')).toBe(true);
    expect(exception('BitConverter.ToInt32(new byte[] { 1, 2, 3 }, 0)')).toMatch(/^System.ArgumentException: Destination array is not long enough/);
    expect(exception('BitConverter.ToInt32(new byte[] { 1, 2, 3, 4 }, 4)')).toMatch(/^System.ArgumentOutOfRangeException/);
  });
});

describe('unchecked', () => {
  it('unchecked(expr) and unchecked { } wrap integer arithmetic as C# does (also ++ on int)', () => {
    expect(run('unchecked((int)4294967295L)')).toBe(-1);
    expect(run('unchecked(int.MaxValue + 1)')).toBe(-2147483648);
    expect(run('{ int x = int.MaxValue; unchecked { x++; } return x; }')).toBe(-2147483648);
    // The "Add correlation id" snippet: bytes of a long, taken with (byte) casts inside unchecked.
    expect(run('{ long time = 0x0A0B0C0D0E0F; var b = new byte[3]; unchecked { b[0] = (byte)(time >> 40); b[1] = (byte)(time >> 8); b[2] = (byte)time; } return b; }')).toBe('0a0e0f');
    expect(run('{ long t = 1; return (t << 40) | 0xFF; }')).toBe(1099511628031);
  });
  it('checked is refused at load (the emulator\'s integers always wrap)', () => {
    expect(diagnostics('checked(1 + 1)')).toEqual(["EXPR2010 'checked' expressions is not supported by the emulator in policy expressions."]);
  });
});

describe('GetValueOrDefault<T> and default(T)', () => {
  it('a missing variable is default(T): 0, false, null, DateTime.MinValue, TimeSpan.Zero, Guid.Empty; a default argument wins', () => {
    expect(run('context.Variables.GetValueOrDefault<int>("missing")')).toBe(0);
    expect(run('context.Variables.GetValueOrDefault<bool>("missing")')).toBe(false);
    expect(run('context.Variables.GetValueOrDefault<string>("missing") == null')).toBe(true);
    expect(run('context.Variables.GetValueOrDefault<int?>("missing").HasValue')).toBe(false);
    expect(run('context.Variables.GetValueOrDefault<DateTime>("missing") == DateTime.MinValue')).toBe(true);
    expect(run('context.Variables.GetValueOrDefault<TimeSpan>("missing") == TimeSpan.Zero')).toBe(true);
    expect(run('context.Variables.GetValueOrDefault<Guid>("missing") == Guid.Empty')).toBe(true);
    expect(run('context.Variables.GetValueOrDefault<int>("missing", 7)')).toBe(7);
    expect(run('context.Variables.GetValueOrDefault<int>("backendIndex")')).toBe(1);
    expect(exception('context.Variables.GetValueOrDefault<int>("model")')).toMatch(/^System.InvalidCastException/);
  });
  it('default(T) and the target-typed default literal', () => {
    expect(run('default(int) + default(long)')).toBe(0);
    expect(run('default(string) == null')).toBe(true);
    expect(run('default(DateTime).Year')).toBe(1);
    expect(run('default(DayOfWeek).ToString()')).toBe('Sunday');
    expect(run('{ int n = default; bool b = default; string s = default; return n + "," + b + "," + (s == null); }')).toBe('0,False,True');
  });
});

describe('System.Array', () => {
  it('Copy, Exists, Find*, IndexOf, TrueForAll, ConvertAll, Sort (numeric), Reverse, Clear', () => {
    expect(run('{ var g = new byte[16]; Array.Copy(Guid.Empty.ToByteArray(), 0, g, 0, 10); Array.Copy(new byte[] { 1, 2, 3, 4, 5, 6 }, 0, g, 10, 6); return new Guid(g).ToString(); }')).toBe('00000000-0000-0000-0000-010203040506');
    expect(run('{ var a = new int[3]; Array.Copy(new[] { 7, 8 }, a, 2); return string.Join(",", a); }')).toBe('7,8,0');
    expect(run('Array.Exists(new[] { "read", "sendEmail" }, e => e == "sendEmail")')).toBe(true);
    expect(run('Array.Find(new[] { 1, 5, 9 }, x => x > 3)')).toBe(5);
    expect(run('Array.FindIndex(new[] { 1, 5, 9 }, x => x > 3)')).toBe(1);
    expect(run('string.Join(",", Array.FindAll(new[] { 1, 5, 9 }, x => x > 3))')).toBe('5,9');
    expect(run('Array.IndexOf(new[] { "a", "b" }, "b")')).toBe(1);
    expect(run('Array.TrueForAll(new[] { 2, 4 }, x => x % 2 == 0)')).toBe(true);
    expect(run('string.Join(",", Array.ConvertAll(new[] { 1, 2 }, x => x * 10))')).toBe('10,20');
    expect(run('{ var a = new[] { 10, 9, 1 }; Array.Sort(a); Array.Reverse(a); return string.Join(",", a); }')).toBe('10,9,1');
    expect(run('{ var a = new[] { 3, 1, 2 }; Array.Sort(a, (x, y) => y - x); return string.Join(",", a); }')).toBe('3,2,1');
    expect(exception('{ var a = new int[2]; Array.Copy(new[] { 1, 2, 3 }, a, 3); return a; }')).toMatch(/^System.ArgumentException: Destination array was not long enough/);
  });
  it('the "Parse a JWT token" snippet: Array.Exists over a claim\'s values', () => {
    const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const token = `${b64url({ alg: 'none' })}.${b64url({ permissions: ['read', 'sendEmail'] })}.x`;
    expect(run(`{ var jwt = "${token}".AsJwt(); var permissions = jwt.Claims["permissions"]; return Array.Exists(permissions, element => element == "sendEmail"); }`)).toBe(true);
  });
});

describe('System.Text.RegularExpressions: Match, Group, Capture members of the reference', () => {
  it('Match.Empty, Match.Result, Group.Captures / Capture.Index, Length, Value, GroupCollection', () => {
    expect(run('Match.Empty.Success')).toBe(false);
    expect(run('Regex.Match("v=1.2", @"v=(\\d+)\\.(\\d+)").Result("$2.$1 ($0) $$")')).toBe('2.1 (v=1.2) $');
    expect(run('Regex.Match("id: ab12", @"(?<name>[a-z]+)(?<num>\\d+)").Result("${num}-${name}")')).toBe('12-ab');
    expect(run('Regex.Match("x=5", @"x=(\\d)").Groups[1].Captures[0].Value')).toBe('5');
    expect(run('Regex.Match("x=5", @"x=(\\d)").Groups[1].Captures.Count')).toBe(1);
    expect(run('Regex.Match("x=5", @"y=(\\d)").Groups[1].Captures.Count')).toBe(0);
    expect(run('{ GroupCollection g = Regex.Match("ab", "(a)(b)").Groups; return g.Count; }')).toBe(3);
    expect(exception('Regex.Match("x", "y").Result("a")')).toBe('System.NotSupportedException: Result cannot be called on a failed Match.');
  });
  it('numbers groups as .NET (unnamed first, then named) in Groups, Result and Replace; Group.Index is the group\'s', () => {
    const m = 'Regex.Match("id: abc-123", @"(?<w>[a-z]+)-(\\d+)")';
    expect(run(`${m}.Groups[1].Value + "|" + ${m}.Groups[2].Value + "|" + ${m}.Groups["w"].Value`)).toBe('123|abc|abc');
    expect(run(`${m}.Groups[1].Index + "," + ${m}.Groups["w"].Index`)).toBe('8,4');
    expect(run(`${m}.Result("$1/$2/\${w}")`)).toBe('123/abc/abc');
    expect(run('Regex.Replace("abc-123", @"(?<w>[a-z]+)-(\\d+)", "$1:$2:${w}:$0:$$")')).toBe('123:abc:abc:abc-123:$');
    expect(run('Regex.Replace("ab", "(a)(b)", "$2$1$12 $5")')).toBe('baa2 $5');
    expect(run('string.Join(",", Regex.Matches("a1 b2", @"(?<l>[a-z])(\\d)").Cast<Match>().Select(x => x.Groups[1].Value + "@" + x.Groups[1].Index))')).toBe('1@1,2@4');
  });
});

describe('Local functions (C# 7)', () => {
  it('are callable before their declaration, recursively, capture outer locals, and void ones may return early', () => {
    expect(run('{ return Twice(21); int Twice(int x) => x * 2; }')).toBe(42);
    expect(run('{ int Fact(int n) { if (n <= 1) return 1; return n * Fact(n - 1); } return Fact(10); }')).toBe(3628800);
    expect(run('{ int Fib(int n) { var a = n; if (a < 2) return a; return Fib(a - 1) + Fib(a - 2); } return Fib(15); }')).toBe(610);
    expect(run('{ var log = new List<string>(); void Add(string s) { if (s == null) return; log.Add(s); } Add("a"); Add(null); Add("b"); return string.Join(",", log); }')).toBe('a,b');
    expect(run('{ int status = 200; void Fail() { status = 207; } Fail(); return status; }')).toBe(207);
  });
  it('the "Filter on IP Address" snippet helpers: typed parameters and results keep C# integer semantics', () => {
    const code = `{
      int HostToNetworkOrder(int host) { return (((int)HostToNetworkOrderShort((short)host) & 0xFFFF) << 16) | ((int)HostToNetworkOrderShort((short)(host >> 16)) & 0xFFFF); }
      short HostToNetworkOrderShort(short host) { return (short)((((int)host & 0xFF) << 8) | (int)((host >> 8) & 0xFF)); }
      var ip = new byte[] { Convert.ToByte(10), Convert.ToByte(1), Convert.ToByte(2), Convert.ToByte(3) };
      return HostToNetworkOrder(BitConverter.ToInt32(ip, 0));
    }`;
    expect(run(code)).toBe(0x0a010203);
  });
  it('stay inside the evaluation limits: unbounded recursion and endless loops end in limit errors C# cannot catch', () => {
    const limited = (code: string) => {
      const { expression } = compileExpression(expressionSource(code, 'block'));
      try {
        expression!.evaluate({ context: fakeContext(), now: () => NOW, limits: { ...DEFAULT_EVALUATION_LIMITS, timeBudgetMs: 20 } });
      } catch (error) {
        return (error as ExpressionRuntimeError).exceptionType;
      }
      return 'no exception';
    };
    expect(limited('try { int F(int n) => F(n + 1); return F(0); } catch (Exception e) { return 0; }')).toBe('System.InsufficientExecutionStackException');
    expect(limited('try { int G() { var s = 0; while (true) { s++; } } return G(); } catch (Exception e) { return 0; }')).toBe('System.TimeoutException');
  });
  it('wrong argument counts, missing returns and values returned from void are load-time errors', () => {
    expect(diagnostics('int F(int a) => a; return F();', 'block')).toEqual(["EXPR2001 No overload for method 'F' takes 0 arguments."]);
    expect(diagnostics('int F() { } return F();', 'block')).toEqual(["EXPR2001 'F(…)': not all code paths return a value."]);
    expect(diagnostics('void G() { return 1; } G(); return 0;', 'block')).toEqual(["EXPR2001 Since 'G' returns void, a return keyword must not be followed by an object expression."]);
  });
});

describe('Other allowed types: Queue, Stack, IPAddress, Enum.TryParse, RNGCryptoServiceProvider', () => {
  it('behave as .NET', () => {
    expect(run('{ var q = new Queue<int>(); q.Enqueue(1); q.Enqueue(2); return q.Dequeue() * 10 + q.Count; }')).toBe(11);
    expect(exception('new Queue<string>().Dequeue()')).toBe('System.InvalidOperationException: Queue empty.');
    expect(run('{ var s = new Stack<string>(); s.Push("a"); s.Push("b"); return string.Join(",", s) + s.Peek(); }')).toBe('b,ab');
    expect(run('IPAddress.Parse("10.1.2.3").GetAddressBytes()[1]')).toBe(1);
    expect(run('IPAddress.Parse("2001:0db8:0:0:0:0:0:1").ToString()')).toBe('2001:db8::1');
    expect(run('IPAddress.Parse("::1").AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6')).toBe(true);
    expect(run('IPAddress.IsLoopback(IPAddress.Parse("127.0.0.1"))')).toBe(true);
    expect(run('{ IPAddress ip; return IPAddress.TryParse("300.1.1.1", out ip) || ip != null; }')).toBe(false);
    expect(exception('IPAddress.Parse("nope")')).toBe('System.FormatException: An invalid IP address was specified.');
    expect(run('{ DayOfWeek d; return Enum.TryParse<DayOfWeek>("friday", true, out d) ? (int)d : -1; }')).toBe(5);
    expect(run('{ DayOfWeek d; return Enum.TryParse<DayOfWeek>("friday", out d); }')).toBe(false);
    expect(run('{ var b = new byte[4]; new RNGCryptoServiceProvider().GetBytes(b); return b.Length; }')).toBe(4);
  });
  it('keep their JavaScript state private: only the C# members are visible', () => {
    expect(exception('new Uri("https://h/").url')).toBe("System.MissingMemberException: 'System.Uri' does not contain a definition for 'url'.");
    expect(exception('IPAddress.Parse("10.0.0.1").bytes')).toMatch(/^System.MissingMemberException/);
    expect(exception('new Queue<int>().items')).toMatch(/^System.MissingMemberException/);
    expect(exception('new Stack<int>().items')).toMatch(/^System.MissingMemberException/);
  });
});
