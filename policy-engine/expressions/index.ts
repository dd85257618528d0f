/**
 * @module
 * The C#-subset policy expression engine: `@( expression )` and `@{ statements }` compiled once to closures,
 * with a runtime of .NET/Newtonsoft shims and the host classes the gateway builds `context` from.
 */
export { compileExpression, expressionSource } from './compile.js';
export type { CompiledExpression, CompileExpressionOptions, ExpressionSource } from './compile.js';
export type { EvaluationScope } from './evaluator.js';
export { parse, BINARY_PRECEDENCE } from './parser.js';
export { ExpressionRuntimeError, clrErrors } from './runtime/errors.js';
export { DEFAULT_EVALUATION_LIMITS, ExpressionLimitError, type EvaluationLimits } from './runtime/limits.js';
export { HeaderBag, VariableBag, StringDictionary, MessageBody, UrlInfo } from './runtime/host.js';
export { JToken, JObject, JArray, JValue, JProperty, JTokenType, Formatting, parseJson, serializeObject, toJToken, writeJson } from './runtime/json.js';
export { CsDateTime, CsTimeSpan, CsGuid } from './runtime/datetime.js';
export { CsList, CsDictionary } from './runtime/collections.js';
export { CsEnum, CsAnonymous, KeyValuePair, toCSharpString, typeNameOf, csEquals } from './runtime/values.js';
export { castTo, isInstanceOf } from './runtime/conversions.js';
export { INDEXER, INDEXER_SET, ENUMERATE, TYPE_NAME, METHOD_INFO, OutRef, declareMethods, declareHostProperties, csMethod } from './runtime/protocol.js';
export type { MethodInfo, TypeArgument } from './runtime/protocol.js';
export { CONTEXT_MODEL } from './context-model.js';
