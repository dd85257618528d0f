import { describe, expect, it } from 'vitest';
import { compileExpression, CsDateTime, expressionSource, ExpressionRuntimeError, toCSharpString } from '../../../policy-engine/expressions/index.js';
import { fakeContext, NOW } from './fake-context.js';

/** APIM's extension methods in policy expressions: AsJwt/TryParseJwt, AsBasic/TryParseBasic, Encrypt/Decrypt. */
function run(code: string, kind: 'expression' | 'block' = 'expression'): unknown {
  const { expression, diagnostics } = compileExpression(expressionSource(code, kind));
  if (!expression) throw new Error(`did not compile: ${diagnostics.map((d) => `${d.code} ${d.message}`).join('; ')}`);
  const v = expression.evaluate({ context: fakeContext(), now: () => NOW, random: () => 0.25 });
  return v instanceof CsDateTime ? toCSharpString(v) : v;
}

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const TOKEN = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({ iss: 'https://issuer', sub: 'alex', aud: ['api://a', 'api://b'], exp: 1767225600, iat: 1767222000, jti: 'id-1', roles: ['reader', 'writer'], tid: 't1' })}.sig`;

describe('AsJwt / TryParseJwt', () => {
  it('decodes a token, with or without the Bearer scheme, into the Jwt members', () => {
    expect(run(`"Bearer ${TOKEN}".AsJwt().Issuer`)).toBe('https://issuer');
    expect(run(`"${TOKEN}".AsJwt().Subject`)).toBe('alex');
    expect(run(`"${TOKEN}".AsJwt().Algorithm`)).toBe('RS256');
    expect(run(`"${TOKEN}".AsJwt().Type`)).toBe('JWT');
    expect(run(`"${TOKEN}".AsJwt().Id`)).toBe('id-1');
    expect(run(`"${TOKEN}".AsJwt().Audiences.Contains("api://b")`)).toBe(true);
    expect(run(`"${TOKEN}".AsJwt().ExpirationTime.Value.ToString("yyyy-MM-ddTHH:mm:ss")`)).toBe('2026-01-01T00:00:00');
    expect(run(`"${TOKEN}".AsJwt().Claims.GetValueOrDefault("roles", "none")`)).toBe('reader,writer');
    expect(run(`"${TOKEN}".AsJwt().Claims.GetValueOrDefault("missing", "none")`)).toBe('none');
    expect(run(`"${TOKEN}".AsJwt().Claims.ContainsKey("tid")`)).toBe(true);
  });

  it('returns null for text that is not a JWT (no exception), and TryParseJwt says false', () => {
    expect(run('"not a token".AsJwt() == null')).toBe(true);
    expect(run('"a.b.c".AsJwt() == null')).toBe(true);
    expect(run('"".AsJwt() == null')).toBe(true);
    expect(run(`{ Jwt jwt; return "x.y".TryParseJwt(out jwt) ? "yes" : (jwt == null ? "no" : "?"); }`, 'block')).toBe('no');
    expect(run(`{ Jwt jwt; return "Bearer ${TOKEN}".TryParseJwt(out jwt) ? jwt.Subject : "no"; }`, 'block')).toBe('alex');
  });
});

describe('AsBasic / TryParseBasic', () => {
  const basic = `Basic ${Buffer.from('svc:p@ss:word').toString('base64')}`;
  it('splits user and password at the first colon; malformed values give null / false', () => {
    expect(run(`"${basic}".AsBasic().Username`)).toBe('svc');
    expect(run(`"${basic}".AsBasic().Password`)).toBe('p@ss:word');
    expect(run('"Basic !!!".AsBasic() == null')).toBe(true);
    expect(run(`"Basic ${Buffer.from('nocolon').toString('base64')}".AsBasic() == null`)).toBe(true);
    expect(run(`{ BasicAuthCredentials c; return "${basic}".TryParseBasic(out c) ? c.Username : "no"; }`, 'block')).toBe('svc');
  });
});

describe('Encrypt / Decrypt (AES, CBC, PKCS7 as .NET)', () => {
  const key = '"0123456789abcdef0123456789abcdef"';
  const iv = '"fedcba9876543210"';
  it('Decrypt round-trips Encrypt and matches node:crypto aes-256-cbc', () => {
    const code = `{ var key = Encoding.UTF8.GetBytes(${key}); var iv = Encoding.UTF8.GetBytes(${iv}); var secret = Encoding.UTF8.GetBytes("hello, gateway").Encrypt("Aes", key, iv); return Convert.ToBase64String(secret) + "|" + Encoding.UTF8.GetString(secret.Decrypt("Aes", key, iv)); }`;
    const [cipherText, plain] = String(run(code, 'block')).split('|');
    expect(plain).toBe('hello, gateway');
    const { createCipheriv } = require('node:crypto') as typeof import('node:crypto');
    const c = createCipheriv('aes-256-cbc', Buffer.from('0123456789abcdef0123456789abcdef'), Buffer.from('fedcba9876543210'));
    expect(cipherText).toBe(Buffer.concat([c.update('hello, gateway'), c.final()]).toString('base64'));
  });

  it('a wrong key size, an unknown algorithm or a bad padding throw the .NET exceptions', () => {
    const expectThrow = (code: string, type: string) => {
      try {
        run(code, 'block');
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ExpressionRuntimeError);
        expect((error as ExpressionRuntimeError).exceptionType).toBe(type);
      }
    };
    expectThrow(`{ return Encoding.UTF8.GetBytes("x").Encrypt("Aes", new byte[5], new byte[16]); }`, 'System.Security.Cryptography.CryptographicException');
    expectThrow(`{ return Encoding.UTF8.GetBytes("x").Encrypt("DES", new byte[16], new byte[16]); }`, 'System.NotSupportedException');
    expectThrow(`{ return new byte[16].Decrypt("Aes", new byte[16], new byte[16]); }`, 'System.Security.Cryptography.CryptographicException');
  });
});

describe('System.Xml.Linq (XDocument, XElement, XAttribute, XName)', () => {
  const XML = `<?xml version="1.0"?><order id="42" xmlns:x="urn:extra"><customer vip="true">Alex</customer><items><item sku="a" qty="2">Pen</item><item sku="b" qty="1">Ink</item></items><x:note>fragile</x:note></order>`;
  const doc = (rest: string) => run(`XDocument.Parse(${JSON.stringify(XML)})${rest}`);
  it('navigates elements, attributes, descendants and parents with expanded names', () => {
    expect(doc('.Root.Name.LocalName')).toBe('order');
    expect(doc('.Root.Attribute("id").Value')).toBe('42');
    expect(doc('.Root.Element("customer").Value')).toBe('Alex');
    expect(doc('.Root.Element("missing") == null')).toBe(true);
    expect(doc('.Root.Element("items").Elements("item").Count()')).toBe(2);
    expect(doc('.Descendants("item").Select(i => i.Attribute("sku").Value).Aggregate((a, b) => a + "," + b)')).toBe('a,b');
    expect(doc('.Descendants("item").First().Parent.Name.LocalName')).toBe('items');
    expect(doc('.Root.Element("note") == null')).toBe(true); // in urn:extra, not in no namespace
    expect(doc('.Root.Element("{urn:extra}note").Value')).toBe('fragile');
    expect(doc('.Root.Element(XName.Get("note", "urn:extra")).Name.NamespaceName')).toBe('urn:extra');
    expect(doc('.Root.Value')).toBe('AlexPenInkfragile');
  });

  it('converts with (string), (int) and (bool) casts as XmlConvert does', () => {
    expect(doc('.Descendants("item").Sum(i => (int)i.Attribute("qty"))')).toBe(3);
    expect(run('(bool)XDocument.Parse("<a v=\\"true\\"/>").Root.Attribute("v")')).toBe(true);
    expect(run('(string)XDocument.Parse("<a>hi</a>").Root')).toBe('hi');
    expect(() => run('(int)XElement.Parse("<a>x</a>")')).toThrow(/not a valid Int32 value/);
  });

  it('prints as .NET: indented with CRLF, inline for text, self-closing when empty; malformed XML is an XmlException', () => {
    expect(run('XElement.Parse("<a><b>1</b><c/></a>").ToString()')).toBe('<a>\r\n  <b>1</b>\r\n  <c />\r\n</a>');
    expect(run('XElement.Parse("<a>x<b>1</b></a>").ToString()')).toBe('<a>x<b>1</b></a>');
    try {
      run('XDocument.Parse("<a><b></a>")');
      expect.unreachable();
    } catch (error) {
      expect((error as ExpressionRuntimeError).exceptionType).toBe('System.Xml.XmlException');
    }
  });
});
