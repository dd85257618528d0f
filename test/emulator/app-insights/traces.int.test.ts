import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/index.js';
import { labPost } from '../../support/lab.js';

/** <trace> output lands in App Insights traces and in ApiManagementGatewayLogs.TraceRecords (ghcp-byok-foundry's query). */
describe('trace policy telemetry', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    gw = await startEmulator({
      preset: 'token-metrics-emitting',
      policies: {
        'apis/inference-api': `<policies><inbound><base /><set-backend-service backend-id="foundry1" />
          <trace source="copilot-finops" severity="information"><message>request seen</message>
            <metadata name="developerName" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-dev&quot;, &quot;&quot;))" />
            <metadata name="oid" value="oid-1" />
          </trace></inbound></policies>`,
      },
    });
    await labPost(gw.url, gw.keyFor('subscription1'), { 'x-dev': 'ada' });
  });
  afterAll(() => gw.close());

  it('writes an App Insights trace with the metadata as custom dimensions', async () => {
    expect(await gw.query("traces | project message, severityLevel, source = tostring(customDimensions.source), developerName = tostring(customDimensions.developerName)")).toEqual([
      { message: 'request seen', severityLevel: 1, source: 'copilot-finops', developerName: 'ada' },
    ]);
  });

  it('answers the ghcp-byok-foundry lab’s TraceRecords query', async () => {
    const rows = await gw.query(
      "ApiManagementGatewayLogs | mv-expand tr = todynamic(TraceRecords) | where tostring(tr['source']) == 'copilot-finops' | project developerName = tostring(tr['metadata']['developerName']), oid = tostring(tr['metadata']['oid'])",
    );
    expect(rows).toEqual([{ developerName: 'ada', oid: 'oid-1' }]);
  });
});
