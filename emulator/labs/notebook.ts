import { LabStepError } from './errors.js';
import type { LabTime } from './lab-time.js';

/** What both seed notebooks send (labs.md §3.4, §4.4). */
export const LAB_MESSAGES = [
  { role: 'system', content: 'You are a sarcastic, unhelpful assistant.' },
  { role: 'user', content: 'Can you tell me the time, please?' },
] as const;

/** Cell 2 of both notebooks, as the ARM parameters file cell 6 writes. */
export interface NotebookVariables {
  deploymentName: string;
  resourceGroupName: string;
  resourceGroupLocation: string;
  aiServicesConfig: Array<{ name: string; location: string }>;
  modelsConfig: Array<{ name: string; publisher: string; version: string; sku: string; capacity: number }>;
  apimSku: string;
  apimSubscriptionsConfig: Array<{ name: string; displayName: string }>;
  inferenceApiPath: string;
  inferenceApiType: string;
  inferenceApiVersion: string;
}

export function notebookVariables(deploymentName: string, subscriptions: Array<{ name: string; displayName: string }>): NotebookVariables {
  return {
    deploymentName,
    resourceGroupName: `lab-${deploymentName}`,
    resourceGroupLocation: 'uksouth',
    aiServicesConfig: [{ name: 'foundry1', location: 'uksouth' }],
    modelsConfig: [{ name: 'gpt-4.1-mini', publisher: 'OpenAI', version: '2025-04-14', sku: 'GlobalStandard', capacity: 20 }],
    apimSku: 'Basicv2',
    apimSubscriptionsConfig: subscriptions,
    inferenceApiPath: 'inference',
    inferenceApiType: 'AzureOpenAI',
    inferenceApiVersion: '2025-03-01-preview',
  };
}

export function parametersFile(v: NotebookVariables): unknown {
  return {
    $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#',
    contentVersion: '1.0.0.0',
    parameters: {
      apimSku: { value: v.apimSku },
      aiServicesConfig: { value: v.aiServicesConfig },
      modelsConfig: { value: v.modelsConfig },
      apimSubscriptionsConfig: { value: v.apimSubscriptionsConfig },
      inferenceAPIPath: { value: v.inferenceApiPath },
      inferenceAPIType: { value: v.inferenceApiType },
      foundryProjectName: { value: v.deploymentName },
    },
  };
}

const ANSI = { reset: '\x1b[0m', blue: '\x1b[1;34m', red: '\x1b[1;31m', green: '\x1b[1;32m', yellow: '\x1b[1;33m' } as const;

/** The print helpers of the labs' shared/utils.py, with time from the lab clock. */
export class NotebookPrinter {
  readonly lines: string[] = [];
  /** Where lines go besides `lines` (the progress bar swaps it while it is drawn). */
  sink: (line: string) => void;

  constructor(
    private readonly time: LabTime,
    sink: (line: string) => void,
    private readonly color: boolean,
  ) {
    this.sink = sink;
  }

  print(...parts: unknown[]): void {
    // Python's print(a, b): str() of each part, joined by one space.
    const text = parts.map((p) => String(p)).join(' ');
    for (const line of text.split('\n')) {
      this.lines.push(line);
      this.sink(line);
    }
  }

  private paint(code: keyof typeof ANSI, text: string): string {
    return this.color ? `${ANSI[code]}${text}${ANSI.reset}` : text;
  }

  /** `datetime.datetime.now().time()`: HH:MM:SS.ffffff (UTC here). */
  private clockTime(): string {
    return `${new Date(this.time.clock.now()).toISOString().slice(11, 23)}000`;
  }

  ok(message: string, duration = ''): void {
    this.print(`✅ ${this.paint('green', message)} ⌚ ${this.clockTime()} ${duration}`);
  }

  error(message: string, output = '', duration = ''): void {
    this.print(`❌ ${this.paint('yellow', message)} ⌚ ${this.clockTime()} ${duration}${output ? ' ' : ''}${output}`);
  }

  info(message: string): void {
    this.print(`👉🏽 ${this.paint('blue', message)}`);
  }

  command(command: string): void {
    this.print(`⚙️ ${this.paint('blue', `Running: ${command} `)}`);
  }

  responseCode(status: number, reason: string): void {
    const text = `${status} - ${reason}`;
    this.print(`Response status: ${status >= 200 && status < 300 ? this.paint('green', text) : status >= 400 ? this.paint('red', text) : String(status)}`);
  }
}

/** An `az` call of the notebook (utils.run), answered by the emulator's control plane, as the `az` stand-in does. */
export class AzCells {
  constructor(
    private readonly gatewayUrl: string,
    private readonly out: NotebookPrinter,
    private readonly time: LabTime,
  ) {}

  private async call(command: string, path: string, init: RequestInit, ok: string, failed: string): Promise<{ success: boolean; json: any }> {
    this.out.command(command);
    const started = this.time.clock.now();
    const response = await fetch(`${this.gatewayUrl}/_emulator${path}`, init);
    const text = await response.text();
    const seconds = (this.time.clock.now() - started) / 1000;
    const duration = `[${Math.floor(seconds / 60)}m:${Math.floor(seconds % 60)}s]`;
    if (ok || failed) {
      if (response.ok) this.out.ok(ok, duration);
      else this.out.error(failed, text, duration);
    }
    let json: unknown = {};
    try {
      json = JSON.parse(text);
    } catch {
      // utils.run: json_data is {} when the output is not JSON.
    }
    return { success: response.ok, json };
  }

  /** Cell 4. */
  async accountShow(): Promise<void> {
    const { success, json } = await this.call('az account show', '/account', {}, 'Retrieved az account', 'Failed to get the current az account');
    if (!success) throw new LabStepError('az account show failed');
    this.out.info(`Current user: ${json.user.name}`);
    this.out.info(`Tenant ID: ${json.tenantId}`);
    this.out.info(`Subscription ID: ${json.id}`);
  }

  /** Cell 6: utils.create_resource_group, then `az deployment group create`. */
  async deploy(v: NotebookVariables, policyXml: string): Promise<void> {
    const rg = v.resourceGroupName;
    const shown = await this.call(`az group show --name ${rg}`, `/resource-groups/${encodeURIComponent(rg)}`, {}, '', '');
    if (shown.success) this.out.info(`Using existing resource group '${rg}'`);
    else {
      this.out.info(`Resource group ${rg} does not yet exist. Creating the resource group now...`);
      const created = await this.call(
        `az group create --name ${rg} --location ${v.resourceGroupLocation} --tags source=ai-gateway`,
        `/resource-groups/${encodeURIComponent(rg)}`,
        jsonRequest('PUT', { location: v.resourceGroupLocation, tags: { source: 'ai-gateway' } }),
        `Resource group '${rg}' created`,
        `Failed to create the resource group '${rg}'`,
      );
      if (!created.success) throw new LabStepError(`az group create failed`);
    }
    const deployed = await this.call(
      `az deployment group create --name ${v.deploymentName} --resource-group ${rg} --template-file main.bicep --parameters params.json`,
      `/deployments/${encodeURIComponent(rg)}/${encodeURIComponent(v.deploymentName)}`,
      jsonRequest('PUT', { parametersFile: parametersFile(v), policyXml, templateFile: 'main.bicep' }),
      `Deployment '${v.deploymentName}' succeeded`,
      `Deployment '${v.deploymentName}' failed`,
    );
    if (!deployed.success) throw new LabStepError(`az deployment group create failed: ${JSON.stringify(deployed.json)}`);
  }

  /** Cell 8: `az deployment group show`, and the outputs the notebook prints. */
  async deploymentOutputs(v: NotebookVariables, printed: Array<[output: string, label: string]>): Promise<DeploymentOutputs> {
    const { success, json } = await this.call(
      `az deployment group show --name ${v.deploymentName} -g ${v.resourceGroupName}`,
      `/deployments/${encodeURIComponent(v.resourceGroupName)}/${encodeURIComponent(v.deploymentName)}`,
      {},
      `Retrieved deployment: ${v.deploymentName}`,
      `Failed to retrieve deployment: ${v.deploymentName}`,
    );
    if (!success) throw new LabStepError('az deployment group show failed');
    const outputs = json.properties.outputs as Record<string, { value: unknown }>;
    const value = (name: string): unknown => {
      if (!(name in outputs)) throw new LabStepError(`Failed to retrieve output property: '${name}'`);
      return outputs[name]!.value;
    };
    const result: DeploymentOutputs = {
      apimServiceId: String(value('apimServiceId')),
      apimResourceGatewayURL: String(value('apimResourceGatewayURL')),
      apimSubscriptions: value('apimSubscriptions') as DeploymentOutputs['apimSubscriptions'],
      ...('applicationInsightsName' in outputs ? { applicationInsightsName: String(value('applicationInsightsName')) } : {}),
      ...('applicationInsightsAppId' in outputs ? { applicationInsightsAppId: String(value('applicationInsightsAppId')) } : {}),
      ...('logAnalyticsWorkspaceId' in outputs ? { logAnalyticsWorkspaceId: String(value('logAnalyticsWorkspaceId')) } : {}),
    };
    for (const [name, label] of printed) {
      if (name === 'apimSubscriptions') {
        for (const s of result.apimSubscriptions) {
          this.out.info(`Subscription Name: ${s.name}`);
          this.out.info(`Subscription Key: ****${s.key.slice(-4)}`);
        }
      } else this.out.info(`${label}: ${String(value(name))}`);
    }
    return result;
  }

  /** token-metrics-emitting cell 14: `az monitor app-insights query --app <name> -g <rg> --analytics-query "<kql>"` (default --offset 1h). */
  async appInsightsQuery(appName: string, v: NotebookVariables, kql: string): Promise<{ columns: Array<{ name: string; type: string }>; rows: unknown[][] }> {
    this.out.command(`az monitor app-insights query --app ${appName} -g ${v.resourceGroupName} --analytics-query "${kql}"`);
    const started = this.time.clock.now();
    const response = await fetch(`${this.gatewayUrl}/v1/apps/${encodeURIComponent(appName)}/query`, jsonRequest('POST', { query: kql, timespan: 'PT1H' }));
    const text = await response.text();
    const seconds = (this.time.clock.now() - started) / 1000;
    const duration = `[${Math.floor(seconds / 60)}m:${Math.floor(seconds % 60)}s]`;
    if (!response.ok) {
      this.out.error('App Insights query  failed', text, duration);
      throw new LabStepError(`App Insights query failed: ${text}`);
    }
    this.out.ok('App Insights query succeeded', duration);
    return (JSON.parse(text) as { tables: Array<{ columns: Array<{ name: string; type: string }>; rows: unknown[][] }> }).tables[0]!;
  }
}

/** One call of a notebook step, as the client saw it. */
export interface LabCall {
  step: 'requests' | 'sdk';
  subscription: string;
  status: number;
  /** usage.total_tokens of a 200 (0 otherwise, as the notebook records it). */
  totalTokens: number;
  content?: string;
}

export interface DeploymentOutputs {
  apimServiceId: string;
  apimResourceGatewayURL: string;
  apimSubscriptions: Array<{ name: string; displayName: string; key: string }>;
  applicationInsightsName?: string;
  applicationInsightsAppId?: string;
  logAnalyticsWorkspaceId?: string;
}

export function jsonRequest(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** `json.dumps(value, indent=4)` (Python's separators and ASCII escaping of non-ASCII characters). */
export function pythonJsonDumps(value: unknown, indent = 4): string {
  return JSON.stringify(value, null, indent).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A pandas-like text rendering of a DataFrame (index column, right-aligned cells). */
export function dataFrameText(columns: string[], rows: unknown[][]): string {
  if (rows.length === 0) return `Empty DataFrame\nColumns: [${columns.join(', ')}]\nIndex: []`;
  const cells = rows.map((row, i) => [String(i), ...row.map((v) => (v === null || v === undefined ? 'None' : String(v)))]);
  const header = ['', ...columns];
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(header), ...cells.map(line)].join('\n');
}
