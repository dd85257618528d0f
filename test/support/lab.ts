/** What the seed labs send (labs.md §3.4, §4.4). */
export const LAB_MESSAGES = [
  { role: 'system', content: 'You are a sarcastic, unhelpful assistant.' },
  { role: 'user', content: 'Can you tell me the time, please?' },
] as const;

export const LAB_API_VERSION = '2025-03-01-preview';
export const LAB_DEPLOYMENT = 'gpt-4.1-mini';

export function chatUrl(gatewayUrl: string, deployment = LAB_DEPLOYMENT): string {
  return `${gatewayUrl}/inference/openai/deployments/${deployment}/chat/completions?api-version=${LAB_API_VERSION}`;
}

/** The lab's `requests.post(url, headers={'api-key': key}, json={"messages": [...]})`: no `model` in the body. */
export function labPost(gatewayUrl: string, key: string, extraHeaders: Record<string, string> = {}): Promise<Response> {
  return fetch(chatUrl(gatewayUrl), {
    method: 'POST',
    headers: { 'api-key': key, 'content-type': 'application/json', ...extraHeaders },
    body: JSON.stringify({ messages: LAB_MESSAGES }),
  });
}

/** The lab's exact KQL (labs.md §3.4), as `az monitor app-insights query` sends it. */
export const LAB_KQL =
  "customMetrics | where name == 'Total Tokens' | extend parsedCustomDimensions = parse_json(customDimensions) | extend clientIP = tostring(parsedCustomDimensions.['Client IP']) | extend apiId = tostring(parsedCustomDimensions.['API ID']) | extend apimSubscription = tostring(parsedCustomDimensions.['Subscription ID']) | extend UserId = tostring(parsedCustomDimensions.['User ID']) | project timestamp, value, clientIP, apiId, apimSubscription, UserId | order by timestamp asc";
