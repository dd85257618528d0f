import { describe, expect, it } from 'vitest';
import { HeaderBag, INDEXER, MessageBody, OutRef, StringDictionary, UrlInfo, VariableBag } from '../../../../policy-engine/expressions/index.js';

describe('HeaderBag', () => {
  it('is case-insensitive, order-preserving and keeps the first spelling', () => {
    const h = HeaderBag.fromHeaders({ 'Content-Type': 'application/json', 'X-Multi': ['a', 'b'] });
    h.append('x-multi', 'c');
    h.set('Retry-After', ['5']);
    expect(h.entries()).toEqual([['Content-Type', ['application/json']], ['X-Multi', ['a', 'b', 'c']], ['Retry-After', ['5']]]);
    expect(h.get('CONTENT-TYPE')).toEqual(['application/json']);
    expect(h.has('retry-after')).toBe(true);
    expect(h.delete('Retry-After')).toBe(true);
    expect(h.get('retry-after')).toBeUndefined();
    expect(h.size).toBe(2);
  });

  it('reads WHATWG Headers, keeping Set-Cookie values apart', () => {
    const web = new Headers([['a', '1'], ['Set-Cookie', 'x=1'], ['Set-Cookie', 'y=2']]);
    const h = HeaderBag.fromHeaders(web);
    expect(h.get('set-cookie')).toEqual(['x=1', 'y=2']);
    expect(h.toHeaders().get('a')).toBe('1');
  });

  it('exposes the C# view', () => {
    const h = HeaderBag.fromEntries([['Accept', ['a', 'b']]]);
    expect(h.GetValueOrDefault('accept')).toBe('a,b');
    expect(h.GetValueOrDefault('nope')).toBeNull();
    expect(h.GetValueOrDefault('nope', 'd')).toBe('d');
    expect(h.GetValueOrDefault('accept', [''])).toEqual(['a', 'b']);
    expect(h[INDEXER]('ACCEPT')).toEqual(['a', 'b']);
    expect(() => h[INDEXER]('nope')).toThrowError("The given key 'nope' was not present in the dictionary.");
    const out = new OutRef();
    expect(h.TryGetValue('accept', out)).toBe(true);
    expect(out.value).toEqual(['a', 'b']);
    expect(h.Count).toBe(1);
    expect(h.Keys).toEqual(['Accept']);
  });
});

describe('VariableBag', () => {
  it('wraps a Map the gateway owns', () => {
    const map = new Map<string, unknown>([['a', 1]]);
    const v = new VariableBag(map);
    v.set('b', 'x');
    expect(map.get('b')).toBe('x');
    expect(v.entries()).toEqual([['a', 1], ['b', 'x']]);
    expect(v.ContainsKey('a')).toBe(true);
    expect(v[INDEXER]('a')).toBe(1);
    expect(() => v[INDEXER]('zz')).toThrowError("The given key 'zz' was not present in the dictionary.");
  });

  it('GetValueOrDefault<T> defaults and casts', () => {
    const v = new VariableBag(new Map<string, unknown>([['n', 5], ['s', '5'], ['nul', null]]));
    const int = [{ name: 'Int32', args: [], arrays: 0, nullable: false }];
    const str = [{ name: 'String', args: [], arrays: 0, nullable: false }];
    expect(v.GetValueOrDefault(int, 'n')).toBe(5);
    expect(v.GetValueOrDefault(int, 'missing')).toBe(0);
    expect(v.GetValueOrDefault(int, 'missing', 7)).toBe(7);
    expect(v.GetValueOrDefault(str, 'missing')).toBeNull();
    expect(v.GetValueOrDefault(undefined, 'missing')).toBeNull();
    expect(v.GetValueOrDefault(str, 'nul', 'd')).toBeNull();
    expect(() => v.GetValueOrDefault(int, 's')).toThrowError("Unable to cast object of type 'System.String' to type 'System.Int32'.");
    expect(() => v.GetValueOrDefault(str, 'n')).toThrowError("Unable to cast object of type 'System.Int32' to type 'System.String'.");
  });
});

describe('StringDictionary', () => {
  it('holds single values (MatchedParameters) or arrays (Url.Query)', () => {
    const p = new StringDictionary({ 'deployment-id': 'gpt-4o' });
    expect(p.GetValueOrDefault('deployment-id')).toBe('gpt-4o');
    expect(p.GetValueOrDefault('Deployment-Id', 'none')).toBe('none');
    const q = new StringDictionary(new URLSearchParams('a=1&a=2&b=3'));
    expect(q.GetValueOrDefault('a')).toBe('1,2');
    expect(q[INDEXER]('a')).toEqual(['1', '2']);
    expect(q.Count).toBe(2);
    const ci = new StringDictionary({ Key: 'v' }, { ignoreCase: true });
    expect(ci.ContainsKey('KEY')).toBe(true);
  });
});

describe('MessageBody', () => {
  const json = new TextEncoder().encode('{"a":1}');
  const String_ = [{ name: 'String', args: [], arrays: 0, nullable: false }];
  const JObject_ = [{ name: 'JObject', args: [], arrays: 0, nullable: false }];

  it('preserveContent reads a copy; the default consumes once and calls onConsume', () => {
    let consumed = 0;
    const body = new MessageBody(json, 'application/json', () => consumed++);
    expect(body.As(String_, true)).toBe('{"a":1}');
    expect(body.consumed).toBe(false);
    expect(body.bytes()).toEqual(json);
    expect(body.As(JObject_)).not.toBeNull();
    expect(body.consumed).toBe(true);
    expect(consumed).toBe(1);
    expect(body.bytes()).toBeNull();
    expect(body.As(String_)).toBe('');
    expect(body.As(JObject_, true)).toBeNull();
    expect(consumed).toBe(1);
  });

  it('As<JArray> on an object body fails like Newtonsoft', () => {
    const body = new MessageBody(json);
    expect(() => body.As([{ name: 'JArray', args: [], arrays: 0, nullable: false }], true)).toThrowError(/Current JsonReader item is not an array: StartObject/);
  });
});

describe('UrlInfo', () => {
  it('maps a WHATWG URL to IUrl', () => {
    const u = new UrlInfo(new URL('http://localhost:8080/a%20b/c?x=1&x=2'));
    expect([u.Scheme, u.Host, u.Port, u.Path, u.QueryString, u.ToString()]).toEqual(['http', 'localhost', 8080, '/a b/c', '?x=1&x=2', 'http://localhost:8080/a%20b/c?x=1&x=2']);
    expect(u.Query.GetValueOrDefault('x')).toBe('1,2');
    expect(new UrlInfo(new URL('https://h/')).Port).toBe(443);
  });
});
