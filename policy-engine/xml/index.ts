/** @module Policy XML reader: named values, expression lifting, fast-xml-parser, spans into the original text. */
export { readPolicyXml, ROOT_ELEMENTS } from './read.js';
export { liftExpressions } from './lift-expressions.js';
export { decodeXmlText } from './entities.js';
export type {
  LiftedExpression,
  PolicyAttribute,
  PolicyElement,
  PolicyText,
  PolicyXmlDocument,
  ReadPolicyXmlOptions,
} from './model.js';
