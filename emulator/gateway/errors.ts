import { apimErrorBody, type GatewayErrorResponse } from '../../policy-engine/index.js';

export const RESOURCE_NOT_FOUND = 'Resource not found';
export const MISSING_SUBSCRIPTION_KEY =
  'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.';
export const INVALID_SUBSCRIPTION_KEY =
  'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.';

/** The gateway's own refusals, with APIM's exact bodies (policies.md §1.3, §2). */
export const gatewayErrors = {
  resourceNotFound: (): GatewayErrorResponse => ({ statusCode: 404, body: apimErrorBody(404, RESOURCE_NOT_FOUND) }),
  missingSubscriptionKey: (): GatewayErrorResponse => ({ statusCode: 401, body: apimErrorBody(401, MISSING_SUBSCRIPTION_KEY) }),
  invalidSubscriptionKey: (): GatewayErrorResponse => ({ statusCode: 401, body: apimErrorBody(401, INVALID_SUBSCRIPTION_KEY) }),
  requestEntityTooLarge: (): GatewayErrorResponse => ({ statusCode: 413, body: apimErrorBody(413, 'Request entity too large') }),
  internalServerError: (activityId: string): GatewayErrorResponse => ({
    statusCode: 500,
    body: apimErrorBody(500, 'Internal server error', { activityId }),
  }),
};
