import { describe, expect, it } from 'vitest';
import {
  compileExpression, CsDateTime, CsTimeSpan, expressionSource, ExpressionRuntimeError, JObject, JToken, toCSharpString, VariableBag, writeJson,
} from '../../../policy-engine/expressions/index.js';
import { fakeContext, NOW } from './fake-context.js';

function run(code: string, kind: 'expression' | 'block' = 'expression', context: unknown = fakeContext()): unknown {
  const { expression, diagnostics } = compileExpression(expressionSource(code, kind));
  if (!expression) throw new Error(`did not compile: ${diagnostics.map((d) => `${d.code} ${d.message}`).join('; ')}`);
  return expression.evaluate({ context, now: () => NOW, random: () => 0.25 });
}

/** Normalizes runtime values for comparison: tokens as compact JSON, dates/timespans via C# ToString. */
function show(v: unknown): unknown {
  if (v instanceof JToken) return `json:${writeJson(v, false)}`;
  if (v instanceof CsDateTime || v instanceof CsTimeSpan) return toCSharpString(v);
  if (Array.isArray(v)) return v.map(show);
  return v;
}

const EXPRESSIONS: Array<[string, unknown]> = [
  // literals
  ['42', 42], ['-7', -7], ['3.5', 3.5], ['1_000_000', 1000000], ['0x1F', 31], ['100L', 100], ['1.5m', 1.5], ['2.5f', 2.5], ['1e3', 1000],
  ['"a\\tb"', 'a\tb'], ['"\\u0041\\x42"', 'AB'], ['@"c:\\dir\\""x"""', 'c:\\dir\\"x"'], ["'x'", 'x'], ["'\\n'", '\n'],
  ['true', true], ['false', false], ['null', null],
  // arithmetic and integral division
  ['7 / 2', 3], ['-7 / 2', -3], ['7.0 / 2', 3.5], ['7 / 2.0', 3.5], ['7d / 2', 3.5], ['7m / 2', 3.5], ['7 % 3', 1], ['-7 % 3', -1],
  ['2 + 3 * 4', 14], ['(2 + 3) * 4', 20], ['10 - 2 - 3', 5], ['2147483647 + 1', -2147483648], ['1 << 4', 16], ['256 >> 2', 64],
  ['5 & 3', 1], ['5 | 3', 7], ['5 ^ 3', 6], ['~0', -1], ['-(3)', -3], ['+4', 4], ['context.Response.StatusCode / 100', 4],
  ["'a' + 1", 98], ['(int)3.99', 3], ['(int)-3.99', -3], ['(long)2.5', 2], ['(double)7 / 2', 3.5], ['(int)\'A\'', 65], ['(char)66', 'B'],
  // strings
  ['"a" + 1 + 2', 'a12'], ['1 + 2 + "a"', '3a'], ['"x" + null', 'x'], ['"b: " + true', 'b: True'], ['"d: " + 1.5', 'd: 1.5'],
  ['"v" + \'c\'', 'vc'], ['"Hello".Length', 5], ['"Hello".ToUpper()', 'HELLO'], ['"Hello".ToLowerInvariant()', 'hello'],
  ['"  hi  ".Trim()', 'hi'], ['"xxhixx".Trim(\'x\')', 'hi'], ['"  hi".TrimStart()', 'hi'], ['"hi  ".TrimEnd()', 'hi'],
  ['"a,b,,c".Split(\',\')', ['a', 'b', '', 'c']], ['"a,b,,c".Split(new[] { \',\' }, StringSplitOptions.RemoveEmptyEntries)', ['a', 'b', 'c']],
  ['"a--b--c".Split(new string[] { "--" }, StringSplitOptions.None)', ['a', 'b', 'c']], ['"a b".Split(\' \')[1]', 'b'],
  ['"Bearer abc".Substring(7)', 'abc'], ['"abcdef".Substring(1, 3)', 'bcd'], ['"abcabc".IndexOf("c")', 2], ['"abcabc".LastIndexOf("c")', 5],
  ['"abc".IndexOf(\'z\')', -1], ['"abc".Replace("b", "X")', 'aXc'], ['"a-b-c".Replace("-", "")', 'abc'], ['"7".PadLeft(3, \'0\')', '007'],
  ['"ab".PadRight(4)', 'ab  '], ['"Hello".StartsWith("he")', false], ['"Hello".StartsWith("he", StringComparison.OrdinalIgnoreCase)', true],
  ['"Hello".EndsWith("LO", StringComparison.OrdinalIgnoreCase)', true], ['"Hello".Contains("ell")', true], ['"abc".Equals("ABC")', false],
  ['"abc".Equals("ABC", StringComparison.OrdinalIgnoreCase)', true], ['"abc" == "abc"', true], ['"abc" != "abd"', true], ['"abc"[1]', 'b'],
  ['"abc".Insert(1, "X")', 'aXbc'], ['"abcdef".Remove(2)', 'ab'], ['"abcdef".Remove(1, 2)', 'adef'], ['"abc".ToCharArray().Length', 3],
  ['string.IsNullOrEmpty("")', true], ['string.IsNullOrEmpty(null)', true], ['String.IsNullOrEmpty("x")', false], ['string.IsNullOrWhiteSpace("  ")', true],
  ['string.Join(",", new[] { "a", "b" })', 'a,b'], ['string.Join("-", "x", "y", "z")', 'x-y-z'], ['string.Join(",", new List<int> { 1, 2 })', '1,2'],
  ['string.Concat("a", 1, true)', 'a1True'], ['string.Format("{0}-{1}", "a", 2)', 'a-2'], ['string.Format("{0:N2}|{1,4}|{{x}}", 1234.5, 7)', '1,234.50|   7|{x}'],
  ['string.Empty', ''], ['String.Empty + "x"', 'x'], ['string.Compare("a", "B")', -1], ['string.Compare("a", "A", true)', 0],
  ['new string(\'-\', 3)', '---'],
  // interpolation
  ['$"a{1 + 1}b"', 'a2b'], ['$"{"x"}{null}{true}"', 'xTrue'], ['$"{3.14159:F2}"', '3.14'], ['$"[{42,5}]"', '[   42]'], ['$"[{42,-5}]"', '[42   ]'],
  ['$"{{literal}}"', '{literal}'], ['$@"c:\\{1}"', 'c:\\1'], ['$"{(context.Response.StatusCode == 429 ? "throttled" : "ok")}"', 'throttled'],
  ['$"{context.Request.Headers.GetValueOrDefault("x-user-id", "none")}@{context.Api.Id}"', 'alice@inference-api'],
  ['$"{DateTime.UtcNow:yyyy-MM-dd}"', '2024-05-17'], ['$"{new[] { 1, 2 }.Length}"', '2'],
  // numbers
  ['(1.5).ToString()', '1.5'], ['42.ToString("D5")', '00042'], ['1234.5678.ToString("F2")', '1234.57'], ['1234567.891.ToString("N1")', '1,234,567.9'],
  ['0.256.ToString("P1")', '25.6 %'], ['255.ToString("X")', 'FF'], ['255.ToString("x4")', '00ff'], ['3.0.ToString("0.00")', '3.00'],
  ['1234.5.ToString("#,##0.0")', '1,234.5'], ['true.ToString()', 'True'], ['false.ToString()', 'False'], ['(0.1 + 0.2).ToString()', '0.30000000000000004'],
  ['1e15.ToString()', '1000000000000000'], ['(1.5e20).ToString()', '1.5E+20'], ['(0.00001).ToString()', '1E-05'],
  ['int.Parse("42")', 42], ['int.Parse(" -7 ")', -7], ['long.Parse("9007199254740991")', 9007199254740991], ['double.Parse("2.5")', 2.5],
  ['bool.Parse("TRUE")', true], ['int.TryParse("x", out var v) ? v : -1', -1], ['double.TryParse("1.25", out double d) ? d : 0', 1.25],
  ['Convert.ToInt32("12")', 12], ['Convert.ToInt32(2.5)', 2], ['Convert.ToInt32(3.5)', 4], ['Convert.ToInt32(null)', 0], ['Convert.ToInt64("5")', 5],
  ['Convert.ToDouble("1.5")', 1.5], ['Convert.ToString(12)', '12'], ['Convert.ToBoolean("false")', false],
  ['Convert.ToBase64String(Encoding.UTF8.GetBytes("hello"))', 'aGVsbG8='], ['Encoding.UTF8.GetString(Convert.FromBase64String("aGVsbG8="))', 'hello'],
  ['Encoding.UTF8.GetBytes("é").Length', 2], ['BitConverter.ToString(new byte[] { 1, 171 })', '01-AB'],
  ['Math.Min(3, 9)', 3], ['Math.Max(3.5, 2)', 3.5], ['Math.Abs(-4)', 4], ['Math.Round(2.5)', 2], ['Math.Round(3.5)', 4], ['Math.Round(2.345, 2)', 2.35],
  ['Math.Round(2.5, MidpointRounding.AwayFromZero)', 3], ['Math.Floor(-1.5)', -2], ['Math.Ceiling(1.2)', 2], ['Math.Pow(2, 10)', 1024], ['Math.Sqrt(81)', 9],
  ['(int)Math.Round(7.0 / 2)', 4], ['int.MaxValue', 2147483647], ['long.MaxValue > int.MaxValue', true],
  // bool logic, ternary, null operators
  ['!true', false], ['true && false || true', true], ['!(1 > 2) && 3 >= 3', true], ['1 == 1.0', true], ['null == null', true],
  ['context.Product != null ? "p" : "none"', 'p'], ['context.User ?? "anonymous"', 'anonymous'], ['(string)null ?? "d"', 'd'],
  ['context.User?.Email', null], ['context.User?.Email ?? "n/a"', 'n/a'], ['context.Product?.Name', 'Gold'], ['context.Product?.Name.Length', 4],
  ['context.Request.Body?.As<JObject>(true)?["model"]?.ToString()', 'gpt-4o'], ['context.User?.Email.Length', null],
  ['(string)context.Variables.GetValueOrDefault("missing") ?? "fallback"', 'fallback'], ['true ? 1 : 2', 1], ['false ? "a" : true ? "b" : "c"', 'b'],
  // context model
  ['context.Request.Method', 'POST'], ['context.Request.Url.Path', '/inference/openai/deployments/gpt-4o/chat/completions'],
  ['context.Request.Url.Scheme', 'https'], ['context.Request.Url.Port', 443], ['context.Request.Url.QueryString', '?api-version=2024-10-21&state=s1&scope=a&scope=b'],
  ['context.Request.Url.Query.GetValueOrDefault("scope", "")', 'a,b'], ['context.Request.Url.Query["scope"].Length', 2], ['context.Request.Url.Query.ContainsKey("state")', true],
  ['context.Request.OriginalUrl.Host', 'apim-xyz.azure-api.net'], ['context.Request.Url.ToString()', 'https://apim-xyz.azure-api.net/inference/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21&state=s1&scope=a&scope=b'],
  ['context.Request.Headers.GetValueOrDefault("ACCEPT")', 'application/json,text/plain'], ['context.Request.Headers["accept"].Length', 2],
  ['context.Request.Headers.ContainsKey("X-USER-ID")', true], ['context.Request.Headers.GetValueOrDefault("missing")', null],
  ['context.Request.Headers.TryGetValue("x-user-id", out var h) ? h[0] : "none"', 'alice'], ['context.Request.Headers.Count', 7],
  ['context.Request.MatchedParameters["deployment-id"]', 'gpt-4o'], ['context.Request.MatchedParameters.GetValueOrDefault("x", "d")', 'd'],
  ['context.Deployment.Region', 'West US'], ['context.Operation.Method', 'POST'], ['context.Subscription.Name', 'Alice subscription'],
  ['context.Timestamp.Year', 2024], ['context.Timestamp.ToString("o")', '2024-05-17T13:45:30.2500000Z'], ['context.Variables.Count > 10', true],
  ['context.Variables.ContainsKey("nope")', false], ['context.Variables.GetValueOrDefault("nope", "dflt")', 'dflt'], ['context.Variables.GetValueOrDefault<int>("nope")', 0],
  ['context.Variables.GetValueOrDefault<int>("backendIndex")', 1], ['context.Variables.GetValueOrDefault<bool>("inGroup", false)', true],
  ['context.Variables.GetValueOrDefault<string>("nope")', null], ['context.Variables.TryGetValue("model", out var m) ? m : null', 'gpt-4o'],
  ['context.Request.Headers.Where(kv => kv.Key.StartsWith("x-", StringComparison.OrdinalIgnoreCase)).Count()', 1],
  ['context.Request.Headers.Keys.Contains("Host")', true],
  // casts, as, is
  ['(string)context.Variables["model"]', 'gpt-4o'], ['context.Variables["model"] as string', 'gpt-4o'], ['context.Variables["backendIndex"] as string', null],
  ['context.Variables["model"] is string', true], ['context.Variables["backendIndex"] is int', true], ['context.Variables["listBackends"] is JArray', true],
  ['context.Variables["reqBody"] is JObject o ? (string)o["model"] : "?"', 'gpt-4.1'], ['context.User is null', true], ['(object)null is string', false],
  ['(bool)context.Variables["inGroup"] ? "in" : "out"', 'in'], ['(JObject)context.Variables["reqBody"] != null', true], ['(IResponse)context.Variables["grp"] != null', true],
  ['(int?)null', null],
  // JSON
  ['JObject.Parse("{\\"a\\":1}")["a"].ToString()', '1'], ['(int)JObject.Parse("{\\"a\\":1}")["a"]', 1], ['(string)JObject.Parse("{\\"a\\":\\"x\\"}")["a"]', 'x'],
  ['(string)JObject.Parse("{\\"a\\":1.50}")["a"]', '1.5'], ['(bool)JToken.Parse("true")', true], ['(double)JToken.Parse("2.5")', 2.5],
  ['JObject.Parse("{}")["missing"] == null', true], ['JObject.Parse("{\\"a\\":null}")["a"].Type == JTokenType.Null', true],
  ['JObject.Parse("{\\"a\\":[1,2,3]}")["a"].Count()', 3], ['((JArray)JObject.Parse("{\\"a\\":[1,2,3]}")["a"]).Count', 3],
  ['JObject.Parse("{\\"a\\":{\\"b\\":[10,20]}}").SelectToken("a.b[1]").ToString()', '20'], ['JObject.Parse("{\\"a\\":{\\"b\\":1}}").SelectToken("$.a.c")', null],
  ['JObject.Parse("{\\"a\\":1,\\"b\\":2}").Properties().Select(p => p.Name).ToArray()', ['a', 'b']], ['JObject.Parse("{\\"a\\":1}").ContainsKey("a")', true],
  ['JObject.Parse("{\\"a\\":\\"x\\"}").Value<string>("a")', 'x'], ['JObject.Parse("{\\"a\\":\\"5\\"}").Value<int>("a")', 5], ['JObject.Parse("{}").Value<int>("a")', 0],
  ['JObject.Parse("{\\"a\\":\\"x\\"}").Property("a").Value.ToString()', 'x'], ['JObject.Parse("{\\"a\\":\\"x\\"}").Property("b")?.Value', null],
  ['JObject.Parse("{\\"a\\":1}").ToString(Formatting.None)', '{"a":1}'], ['JObject.Parse("{\\"a\\":[1,{\\"b\\":true}]}").ToString()', '{\r\n  "a": [\r\n    1,\r\n    {\r\n      "b": true\r\n    }\r\n  ]\r\n}'],
  ['JToken.Parse("\\"s\\"").ToString()', 's'], ['JToken.Parse("1.0").ToString(Formatting.None)', '1.0'], ['new JObject().ToString()', '{}'],
  ['new JObject(new JProperty("a", 1), new JProperty("b", "x")).ToString(Formatting.None)', '{"a":1,"b":"x"}'], ['new JObject { { "k", "v" } }.ToString(Formatting.None)', '{"k":"v"}'],
  ['new JObject { ["k"] = 5 }.ToString(Formatting.None)', '{"k":5}'], ['new JArray(1, "a", true, null).ToString(Formatting.None)', '[1,"a",true,null]'],
  ['JsonConvert.SerializeObject(new { a = 1, b = "x", c = new[] { 1, 2 } })', '{"a":1,"b":"x","c":[1,2]}'], ['JsonConvert.SerializeObject("q\\"")', '"q\\""'],
  ['JsonConvert.SerializeObject(new { ok = true }, Formatting.Indented)', '{\r\n  "ok": true\r\n}'], ['JsonConvert.SerializeObject(null)', 'null'],
  ['JsonConvert.DeserializeObject<JObject>("{\\"a\\":2}")["a"].Value<int>()', 2], ['JsonConvert.DeserializeObject<Dictionary<string, string>>("{\\"a\\":\\"b\\"}")["a"]', 'b'],
  ['JsonConvert.DeserializeObject<List<int>>("[1,2]").Sum()', 3], ['JObject.Parse("{\\"s\\":\\"\\\\u00e9\\\\n\\"}").ToString(Formatting.None)', '{"s":"é\\n"}'],
  ['JObject.Parse("{\'a\': 1, b: [1,2,], /* c */ }").ToString(Formatting.None)', '{"a":1,"b":[1,2]}'], ['JArray.Parse("[1,2]")[1].ToString()', '2'],
  ['JObject.FromObject(new { x = 1 })["x"].ToString()', '1'], ['JToken.DeepEquals(JToken.Parse("{\\"a\\":1}"), JToken.Parse("{ \\"a\\" : 1 }"))', true],
  ['context.Request.Body.As<string>(preserveContent: true).Length > 10', true], ['context.Request.Body.As<JObject>(preserveContent: true)["messages"][0]["content"].ToString()', 'hi'],
  ['context.Request.Body.As<byte[]>(true).Length', 76], ['context.Request.Body.As<JToken>(true).Type.ToString()', 'Object'],
  // LINQ
  ['new[] { 3, 1, 2 }.OrderBy(x => x).ToArray()', [1, 2, 3]], ['new[] { 3, 1, 2 }.OrderByDescending(x => x).First()', 3], ['new[] { "b", "a", "c" }.OrderBy(s => s).Last()', 'c'],
  ['new[] { 1, 2, 3, 4 }.Where(x => x % 2 == 0).Select(x => x * x).ToList().Count', 2], ['new[] { 1, 2, 3 }.Any(x => x > 2)', true], ['new int[0].Any()', false],
  ['new[] { 1, 2, 3 }.All(x => x > 0)', true], ['new[] { 1, 2, 3 }.Sum()', 6], ['new[] { 1.5, 2.5 }.Average()', 2], ['new[] { 4, 9, 2 }.Max()', 9], ['new[] { 4, 9, 2 }.Min()', 2],
  ['new[] { 1, 2, 2, 3 }.Distinct().Count()', 3], ['new[] { "a", "b" }.Contains("b")', true], ['new[] { 1, 2, 3 }.FirstOrDefault(x => x > 5)', null],
  ['new[] { "x" }.FirstOrDefault()', 'x'], ['new[] { 1, 2, 3 }.Skip(1).Take(1).Single()', 2], ['new[] { 1, 2 }.Concat(new[] { 3 }).ToArray()', [1, 2, 3]],
  ['new[] { "a", "bb" }.Select((s, i) => s + i).ToArray()', ['a0', 'bb1']], ['new[] { "ab", "cd" }.SelectMany(s => s.ToCharArray()).Count()', 4],
  ['new[] { 1, 2, 3, 4 }.GroupBy(x => x % 2).Select(g => g.Key + ":" + g.Count()).ToArray()', ['1:2', '0:2']],
  ['new[] { "k1", "k2" }.ToDictionary(k => k, k => k.Length)["k2"]', 2], ['new[] { 1, 2, 3 }.Aggregate((a, b) => a * b)', 6], ['new[] { 3, 1 }.Reverse().First()', 1],
  ['new[] { new { n = "b", v = 2 }, new { n = "a", v = 2 }, new { n = "c", v = 1 } }.OrderBy(x => x.v).ThenBy(x => x.n).Select(x => x.n).ToArray()', ['c', 'a', 'b']],
  ['Enumerable.Range(1, 4).Sum()', 10], ['Enumerable.Repeat("x", 3).Count()', 3], ['"hello".Count(c => c == \'l\')', 2], ['"abc".Any(char.IsDigit)', false],
  ['JArray.Parse("[{\\"n\\":1},{\\"n\\":2}]").Select(t => (int)t["n"]).Sum()', 3], ['JObject.Parse("{\\"a\\":1,\\"b\\":2}").Count', 2],
  // collections
  ['new List<string> { "a", "b" }.Count', 2], ['new List<int>().Count', 0], ['new Dictionary<string, int> { { "a", 1 } }["a"]', 1],
  ['new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { { "Key", "v" } }["KEY"]', 'v'], ['new Dictionary<string, string> { ["a"] = "x" }.ContainsKey("a")', true],
  ['new HashSet<string> { "a", "a", "b" }.Count', 2], ['new string[] { "a", "b" }[1]', 'b'], ['(new int[3])[2]', 0], ['(new string[2])[0]', null], ['new[] { 1, 2 }.Length', 2],
  ['new StringBuilder().Append("a").Append(1).AppendLine().ToString()', 'a1\r\n'],
  // dates and times
  ['DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ")', '2024-05-17T13:45:30Z'], ['DateTime.UtcNow.ToString("s")', '2024-05-17T13:45:30'], ['DateTime.UtcNow.ToString("u")', '2024-05-17 13:45:30Z'],
  ['DateTime.UtcNow.ToString("R")', 'Fri, 17 May 2024 13:45:30 GMT'], ['DateTime.UtcNow.ToString()', '05/17/2024 13:45:30'], ['DateTime.UtcNow.ToString("MMM d, yyyy h:mm tt")', 'May 17, 2024 1:45 PM'],
  ['DateTime.UtcNow.AddMinutes(15).ToString("HH:mm")', '14:00'], ['DateTime.UtcNow.AddDays(-17).Day', 30], ['DateTime.UtcNow.AddMonths(1).Month', 6], ['DateTime.UtcNow.Date.ToString("o")', '2024-05-17T00:00:00.0000000Z'],
  ['DateTime.UtcNow.DayOfWeek.ToString()', 'Friday'], ['DateTime.UtcNow.DayOfWeek == DayOfWeek.Friday', true], ['DateTime.UtcNow > DateTime.UtcNow.AddSeconds(-1)', true],
  ['(DateTime.UtcNow - DateTime.UtcNow.AddHours(-2)).TotalMinutes', 120], ['(DateTime.UtcNow.AddSeconds(90) - DateTime.UtcNow).ToString()', '00:01:30'],
  ['DateTime.Parse("2024-01-02T03:04:05Z").ToUniversalTime().ToString("o")', '2024-01-02T03:04:05.0000000Z'], ['DateTime.ParseExact("20240102", "yyyyMMdd", null).Year', 2024],
  ['new DateTime(2024, 2, 29).AddYears(1).ToString("yyyy-MM-dd")', '2025-02-28'], ['DateTimeOffset.UtcNow.ToUnixTimeSeconds()', 1715953530], ['DateTimeOffset.FromUnixTimeSeconds(0).ToString("o")', '1970-01-01T00:00:00.0000000+00:00'],
  ['TimeSpan.FromMinutes(90).TotalHours', 1.5], ['TimeSpan.FromSeconds(3725).ToString()', '01:02:05'], ['new TimeSpan(1, 2, 3).TotalSeconds', 3723], ['TimeSpan.Parse("1.02:03:04").Days', 1],
  ['DateTime.UtcNow.Ticks', 638515503302500000], ['DateTime.Now.Kind == DateTimeKind.Local', true],
  // Guid, regex, encoding, web utilities
  ['Guid.NewGuid().ToString()', '40404040-4040-4040-8040-404040404040'], ['Guid.NewGuid().ToString("N").Length', 32], ['Guid.Parse("3F2504E0-4F89-11D3-9A0C-0305E82C3301").ToString()', '3f2504e0-4f89-11d3-9a0c-0305e82c3301'],
  ['Guid.Empty.ToString()', '00000000-0000-0000-0000-000000000000'], ['Regex.IsMatch("gpt-4o-mini", "^gpt-4o")', true], ['Regex.Match("id=42;", @"id=(\\d+)").Groups[1].Value', '42'],
  ['Regex.Match("k=v", "(?<key>\\\\w+)=(?<val>\\\\w+)").Groups["val"].Value', 'v'], ['Regex.Replace("a1b22", @"\\d+", "#")', 'a#b#'], ['Regex.Replace("John Smith", @"(\\w+) (\\w+)", "$2, $1")', 'Smith, John'],
  ['Regex.IsMatch("ABC", "abc", RegexOptions.IgnoreCase)', true], ['Regex.Matches("a1b2c3", @"\\d").Count', 3], ['Regex.Split("a1b2c", @"\\d")', ['a', 'b', 'c']], ['new Regex("^x").IsMatch("xyz")', true],
  ['System.Net.WebUtility.UrlEncode("a b&c=d/é")', 'a+b%26c%3Dd%2F%C3%A9'], ['WebUtility.UrlDecode("a+b%26c")', 'a b&c'], ['Uri.EscapeDataString("a b/c")', 'a%20b%2Fc'], ['System.Uri.UnescapeDataString("a%20b")', 'a b'],
  ['WebUtility.HtmlEncode("<a href=\\"x\\">")', '&lt;a href=&quot;x&quot;&gt;'], ['new Uri("https://h.example/p?q=1").Host', 'h.example'],
  ['Newtonsoft.Json.Linq.JObject.Parse("{\\"a\\":1}")["a"].ToString()', '1'], ['Convert.ToBase64String(System.Security.Cryptography.SHA256.Create().ComputeHash(Encoding.UTF8.GetBytes("abc")))', 'ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='],
  ['BitConverter.ToString(new HMACSHA256(Encoding.UTF8.GetBytes("key")).ComputeHash(Encoding.UTF8.GetBytes("msg"))).Replace("-", "").ToLower()', '2d93cbc1be167bcb1637a4a23cbff01a7878f0c50ee833954ea5221bb1b8c628'],
  ['new Random(1).Next(10) < 10', true], ['new Random().NextDouble()', 0.25],
];

describe('evaluate: expressions', () => {
  it.each(EXPRESSIONS)('%s', (code, expected) => {
    expect(show(run(code))).toEqual(expected);
  });
});

const BLOCKS: Array<[string, unknown]> = [
  ['return 1;', 1],
  ['var x = 5; x += 3; x *= 2; return x;', 16],
  ['int a = 7; int b = 2; return a / b;', 3],
  ['double a = 7; return a / 2;', 3.5],
  ['var s = ""; for (var i = 0; i < 3; i++) { s += i; } return s;', '012'],
  ['var n = 0; foreach (var x in new[] { 1, 2, 3 }) { n += x; } return n;', 6],
  ['var n = 0; while (true) { n++; if (n == 5) break; } return n;', 5],
  ['var n = 0; do { n += 2; } while (n < 7); return n;', 8],
  ['var s = 0; for (int i = 0; i < 10; i++) { if (i % 2 == 0) continue; s += i; } return s;', 25],
  ['if (context.Response.StatusCode == 429) { return "throttled"; } else { return "ok"; }', 'throttled'],
  ['if (false) return 1; else if (true) return 2; else return 3;', 2],
  ['string model = (string)context.Variables["model"]; switch (model) { case "gpt-4o": return "big"; case "gpt-4o-mini": return "small"; default: return "?"; }', 'big'],
  ['switch (3) { case 1: case 2: return "low"; default: return "high"; }', 'high'],
  ['try { throw new InvalidOperationException("boom"); } catch (InvalidOperationException e) { return "caught " + e.Message; }', 'caught boom'],
  ['try { var x = int.Parse("nope"); return "parsed"; } catch (FormatException) { return "format"; }', 'format'],
  ['try { return JObject.Parse("{").ToString(); } catch (Exception ex) { return ex.GetType().Name; }', 'JsonReaderException'],
  ['var log = ""; try { log += "t"; } finally { log += "f"; } return log;', 'tf'],
  ['try { object o = null; return o.ToString(); } catch (NullReferenceException) { return "nre"; }', 'nre'],
  ['try { throw new ArgumentNullException("p"); } catch (ArgumentException e) { return e.GetType().Name; }', 'ArgumentNullException'],
  ['var body = context.Request.Body.As<JObject>(preserveContent: true); body["model"] = "gpt-4o-mini"; body.Remove("stream"); return body.ToString(Formatting.None);', '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'],
  ['var o = new JObject(); o["a"] = 1; o.Add("b", new JArray("x")); o["c"] = new JObject { { "d", true } }; return o.ToString(Formatting.None);', '{"a":1,"b":["x"],"c":{"d":true}}'],
  ['var list = new List<string>(); list.Add("a"); list.AddRange(new[] { "b", "c" }); list.RemoveAt(0); return string.Join("|", list);', 'b|c'],
  ['var d = new Dictionary<string, int>(); d["x"] = 1; d["x"]++; return d.TryGetValue("x", out var v) ? v : -1;', 2],
  ['var sq = new[] { 1, 2, 3 }.Select(x => { var y = x * x; return y; }).ToArray(); return sq[2];', 9],
  ['var total = 0; var items = JArray.Parse("[{\\"t\\":5},{\\"t\\":7}]"); foreach (JObject item in items) { total += (int)item["t"]; } return total;', 12],
  ['var parts = context.Request.Url.Path.Split(\'/\'); return parts[parts.Length - 1];', 'completions'],
  ['var i = 0; var j = i++ + ++i; return j + "," + i;', '2,2'],
  ['const int limit = 3; return limit * 2;', 6],
  ['var x = context.Variables.GetValueOrDefault<string>("nope"); x ??= "init"; return x;', 'init'],
  ['using (var sha = SHA256.Create()) { return sha.ComputeHash(Encoding.UTF8.GetBytes("")).Length; }', 32],
  ['var nums = new List<int> { 5, 3, 8 }; nums.Sort(); return nums[0] + nums[2];', 11],
  ['bool ok = context.Request.Headers.TryGetValue("agent-id", out string[] values); return ok ? values[0] : "none";', 'agent-7'],
  ['var sb = new StringBuilder(); foreach (var c in "abc") { sb.Insert(0, c); } return sb.ToString();', 'cba'],
  ['var r = ""; foreach (var kv in JObject.Parse("{\\"a\\":1,\\"b\\":2}")) { r += kv.Key + "=" + kv.Value + ";"; } return r;', 'a=1;b=2;'],
  ['int? n = null; return n.HasValue ? 1 : 0;', 0],
  ['var o = new { Name = "x", Size = 2 }; return o.Name + o.Size + o.ToString();', 'x2{ Name = x, Size = 2 }'],
];

describe('evaluate: statement blocks', () => {
  it.each(BLOCKS)('%s', (code, expected) => {
    expect(show(run(code, 'block'))).toEqual(expected);
  });
});

describe('evaluate: brief-specific cases', () => {
  it('@((string)context.Product?.Id == "gold") with and without a product', () => {
    expect(run('(string)context.Product?.Id == "gold"')).toBe(true);
    expect(run('(string)context.Product?.Id == "gold"', 'expression', fakeContext({ product: null }))).toBe(false);
    expect(run('(string)context.Product?.Id == "gold"', 'expression', fakeContext({ product: { Id: 'silver' } }))).toBe(false);
  });

  it('context.Request.Headers.GetValueOrDefault is case-insensitive and falls back to the default', () => {
    expect(run('context.Request.Headers.GetValueOrDefault("x-user-id", "N/A")', 'expression', fakeContext({ headers: { 'X-USER-ID': 'bob' } }))).toBe('bob');
    expect(run('context.Request.Headers.GetValueOrDefault("x-user-id", "N/A")', 'expression', fakeContext({ headers: {} }))).toBe('N/A');
  });

  it('GetValueOrDefault<int> on a string variable throws InvalidCastException', () => {
    const ctx = fakeContext({ variables: { v: '5' } });
    expect(() => run('context.Variables.GetValueOrDefault<int>("v")', 'expression', ctx)).toThrowError(
      expect.objectContaining({ exceptionType: 'System.InvalidCastException', message: "Unable to cast object of type 'System.String' to type 'System.Int32'." }),
    );
    expect(run('context.Variables.GetValueOrDefault<int>("missing", 9)', 'expression', ctx)).toBe(9);
  });

  it("model-routing's Property(\"model\")?.Value?.ToString() ?? string.Empty", () => {
    const code = '((JObject)context.Variables["reqBody"]).Property("model")?.Value?.ToString() ?? string.Empty';
    expect(run(code)).toBe('gpt-4.1');
    expect(run(code, 'expression', fakeContext({ variables: { reqBody: JObject.Parse('{"messages":[]}') } }))).toBe('');
    expect(() => run(code, 'expression', fakeContext({ variables: { reqBody: 'not an object' } }))).toThrowError(
      expect.objectContaining({ exceptionType: 'System.InvalidCastException', message: "Unable to cast object of type 'System.String' to type 'Newtonsoft.Json.Linq.JObject'." }),
    );
  });

  it('mutations through the JS API are visible to later evaluations', () => {
    const ctx = fakeContext();
    const { expression } = compileExpression(expressionSource('context.Request.Headers.GetValueOrDefault("x-new", "none") + "/" + context.Variables.GetValueOrDefault("late", "none")'));
    const scope = { context: ctx, now: () => NOW };
    expect(expression!.evaluate(scope)).toBe('none/none');
    ((ctx.Request as { Headers: { set(n: string, v: string[]): void } }).Headers).set('X-New', ['1', '2']);
    (ctx.Variables as VariableBag).set('late', 'here');
    expect(expression!.evaluate(scope)).toBe('1,2/here');
  });

  it('Body.As<T>() without preserveContent consumes the body', () => {
    const ctx = fakeContext();
    const body = (ctx.Request as { Body: { consumed: boolean } }).Body;
    expect(run('context.Request.Body.As<JObject>(preserveContent: true)["model"].ToString()', 'expression', ctx)).toBe('gpt-4o');
    expect(body.consumed).toBe(false);
    expect(run('context.Request.Body.As<string>().Length > 0', 'expression', ctx)).toBe(true);
    expect(body.consumed).toBe(true);
    expect(run('context.Request.Body.As<string>()', 'expression', ctx)).toBe('');
  });

  it('runtime errors carry the .NET type and a span into the source', () => {
    const src = expressionSource('"x" + context.Variables["nope"]', 'expression', 100);
    const { expression } = compileExpression(src);
    try {
      expression!.evaluate({ context: fakeContext(), now: () => NOW });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ExpressionRuntimeError);
      const err = e as ExpressionRuntimeError;
      expect(err.exceptionType).toBe('System.Collections.Generic.KeyNotFoundException');
      expect(err.message).toBe("The given key 'nope' was not present in the dictionary.");
      expect(err.span).toEqual({ start: 106, end: 131 });
    }
  });
});
