import { readFileSync } from 'node:fs';
import { AzureOpenAI } from 'openai';
import { rateLimitingChartSpec, writeChart, type LabChart } from '../charts.js';
import type { SdkAttempt } from '../lab-time.js';
import { LAB_MESSAGES, jsonRequest, notebookVariables, type DeploymentOutputs, type LabCall } from '../notebook.js';
import { createRetryProgress } from '../progress.js';
import type { LabContext } from '../run-lab.js';

export const POLICY_XML = readFileSync(new URL('./policy.xml', import.meta.url), 'utf8');

export interface TokenRateLimitingResult {
  outputs: DeploymentOutputs;
  /** Cell 10: `api_runs` as (tokens, status) per run. */
  httpRuns: LabCall[];
  /** Cell 14: one entry per notebook run (after the SDK's retries). */
  sdkRuns: LabCall[];
  /** Cell 14: every HTTP attempt the SDK made. */
  sdkAttempts: SdkAttempt[];
  charts: { rateLimiting: LabChart };
}

/** labs/token-rate-limiting/token-rate-limiting.ipynb, cell by cell (labs.md §4.4). */
export async function tokenRateLimitingLab(ctx: LabContext): Promise<TokenRateLimitingResult> {
  const { out, az, time } = ctx;
  const v = notebookVariables('token-rate-limiting', [{ name: 'subscription1', displayName: 'Subscription 1' }]);
  const subscriptionName = v.apimSubscriptionsConfig[0]!.name;

  // Cell 2
  out.ok('Notebook initialized');
  // Cell 4
  await az.accountShow();
  // Cell 6
  await az.deploy(v, POLICY_XML);
  // Cell 8
  const outputs = await az.deploymentOutputs(v, [
    ['apimServiceId', 'APIM Service Id'],
    ['apimResourceGatewayURL', 'APIM API Gateway URL'],
    ['apimSubscriptions', ''],
  ]);
  const apiKey = outputs.apimSubscriptions[0]!.key;
  const gateway = outputs.apimResourceGatewayURL;

  // Cell 10: 30 raw calls, a new connection each (requests.post), no sleep.
  const url = `${gateway}/${v.inferenceApiPath}/openai/deployments/${v.modelsConfig[0]!.name}/chat/completions?api-version=${v.inferenceApiVersion}`;
  const httpRuns: LabCall[] = [];
  for (let i = 0; i < 30; i++) {
    const response = await fetch(url, jsonRequest('POST', { messages: LAB_MESSAGES }, { 'api-key': apiKey, connection: 'close' }));
    const text = await response.text();
    let totalTokens = 0;
    let content: string | undefined;
    if (response.status === 200) {
      out.print('▶️ Run: ', i + 1, 'status code: ', response.status, '✅');
      const data = JSON.parse(text) as { usage: { total_tokens: number }; choices: Array<{ message: { content: string } }> };
      totalTokens = data.usage.total_tokens;
      content = data.choices[0]!.message.content;
      out.print('💬 ', content);
    } else {
      out.print('▶️ Run: ', i + 1, 'status code: ', response.status, '⛔');
      out.print(text);
    }
    httpRuns.push({ step: 'requests', subscription: subscriptionName, status: response.status, totalTokens, ...(content === undefined ? {} : { content }) });
  }

  // Cell 12
  const rateLimiting = await writeChart(
    ctx.outDir,
    'rate-limiting-results',
    'Rate Limiting results',
    rateLimitingChartSpec(httpRuns.map((r, i) => ({ run: i + 1, tokens: r.totalTokens, status: r.status }))),
  );
  out.print(`📊 Rate Limiting results: ${rateLimiting.pngPath} (and .svg)`);

  // Cell 14: a new AzureOpenAI client per run; the SDK retries the 429s itself (max_retries 2), waiting Retry-After.
  const sdkRuns: LabCall[] = [];
  const sdkAttempts: SdkAttempt[] = [];
  const runs = 10;
  const progress = createRetryProgress({ total: runs, label: 'SDK retries', enabled: ctx.progress, clockNote: time.realTime ? 'wall clock' : 'virtual clock' });
  const sink = out.sink;
  if (progress.log) out.sink = progress.log;
  const waitedBefore = time.waitedMs;
  try {
    for (let i = 0; i < runs; i++) {
      out.print('▶️ Run: ', i + 1);
      const client = new AzureOpenAI({
        endpoint: `${gateway}/${v.inferenceApiPath}`,
        apiKey,
        apiVersion: v.inferenceApiVersion,
        fetch: time.sdkFetch((a) => {
          sdkAttempts.push(a);
          progress.update(i, sdkAttempts.filter((x) => x.retryCount > 0).length, (time.waitedMs - waitedBefore) / 1000);
        }),
      });
      const response = await client.chat.completions.create({ model: v.modelsConfig[0]!.name, messages: [...LAB_MESSAGES] });
      const content = response.choices[0]!.message.content ?? '';
      out.print('💬 ', content);
      sdkRuns.push({ step: 'sdk', subscription: subscriptionName, status: 200, totalTokens: response.usage?.total_tokens ?? 0, content });
      progress.update(i + 1, sdkAttempts.filter((a) => a.retryCount > 0).length, (time.waitedMs - waitedBefore) / 1000);
    }
  } finally {
    progress.stop();
    out.sink = sink;
  }
  const retries = sdkAttempts.filter((a) => a.retryCount > 0).length;
  out.print(`🔁 The SDK retried ${retries} time(s), waiting ${Math.round((time.waitedMs - waitedBefore) / 1000)} s on Retry-After (${time.realTime ? 'wall clock' : 'virtual clock'}).`);

  return { outputs, httpRuns, sdkRuns, sdkAttempts, charts: { rateLimiting } };
}
