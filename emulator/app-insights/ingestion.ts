import express, { Router, type Request, type Response } from 'express';
import type { AppInsightsIdentity, TelemetryContext, TelemetryStore } from './store.js';

/**
 * The App Insights ingestion ("track") API, so applications instrumented with the Application Insights
 * SDKs can send to the emulator's connection string (kql-and-clients.md §3.5). Accepts a JSON array, a
 * single envelope or NDJSON, optionally gzip/deflate-encoded; dispatches on `data.baseType`.
 */
export function createIngestionRouter(options: { store: TelemetryStore; identity: AppInsightsIdentity }): Router {
  const router = Router();
  // body-parser inflates gzip/deflate bodies (Content-Encoding) before the handler sees them.
  const raw = express.raw({ type: () => true, limit: '20mb', inflate: true });
  const handler = (req: Request, res: Response) => {
    let envelopes: unknown[];
    try {
      envelopes = parseEnvelopes(text(req.body as Buffer | undefined));
    } catch (error) {
      return void res.status(400).json({ itemsReceived: 0, itemsAccepted: 0, errors: [{ index: 0, statusCode: 400, message: (error as Error).message }] });
    }
    const errors: Array<{ index: number; statusCode: number; message: string }> = [];
    envelopes.forEach((envelope, index) => {
      const problem = ingest(envelope, options);
      if (problem) errors.push({ index, statusCode: 400, message: problem });
    });
    const accepted = envelopes.length - errors.length;
    res.status(errors.length === 0 ? 200 : accepted === 0 ? 400 : 206).json({ itemsReceived: envelopes.length, itemsAccepted: accepted, errors });
  };
  router.post(['/v2/track', '/v2.1/track'], raw, handler);
  return router;
}

function text(body: Buffer | undefined): string {
  if (!Buffer.isBuffer(body) || body.length === 0) throw new Error('The request body is empty.');
  return body.toString('utf8');
}

function parseEnvelopes(text: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as unknown[];
  const lines = trimmed.split(/\r?\n/).filter((l) => l.trim() !== '');
  return lines.map((line, i) => {
    try {
      return JSON.parse(line) as unknown;
    } catch (error) {
      throw new Error(`Line ${i + 1} is not valid JSON: ${(error as Error).message}`);
    }
  });
}

interface Envelope {
  name?: string;
  time?: string;
  iKey?: string;
  sampleRate?: number;
  tags?: Record<string, string>;
  data?: { baseType?: string; baseData?: Record<string, unknown> };
}

const normalizeKey = (key: string) => key.toLowerCase().replace(/-/g, '');

/** Stores one envelope; returns a message when it cannot be stored. */
function ingest(value: unknown, options: { store: TelemetryStore; identity: AppInsightsIdentity }): string | undefined {
  if (!value || typeof value !== 'object') return 'An envelope must be a JSON object.';
  const envelope = value as Envelope;
  if (!envelope.iKey || normalizeKey(envelope.iKey) !== normalizeKey(options.identity.instrumentationKey)) {
    return `Invalid instrumentation key '${envelope.iKey ?? ''}' (this emulator's is ${options.identity.instrumentationKey}).`;
  }
  const timestamp = Date.parse(envelope.time ?? '');
  if (!Number.isFinite(timestamp)) return `Invalid or missing 'time': '${envelope.time ?? ''}'.`;
  const base = envelope.data?.baseData ?? {};
  const tags = envelope.tags ?? {};
  const itemCount = Math.max(1, Math.round(100 / (envelope.sampleRate && envelope.sampleRate > 0 ? envelope.sampleRate : 100)));
  const context: TelemetryContext = {
    operationId: tags['ai.operation.id'] ?? '',
    operationName: tags['ai.operation.name'] ?? '',
    operationParentId: tags['ai.operation.parentId'] ?? '',
    clientIp: tags['ai.location.ip'] ?? '',
    cloudRoleName: tags['ai.cloud.role'] ?? '',
    cloudRoleInstance: tags['ai.cloud.roleInstance'] ?? '',
    userId: tags['ai.user.id'] ?? '',
    sessionId: tags['ai.session.id'] ?? '',
    ...(tags['ai.internal.sdkVersion'] ? { sdkVersion: tags['ai.internal.sdkVersion'] } : {}),
  };
  const dimensions = stringRecord(base.properties);
  const measurements = numberRecord(base.measurements);
  /** Fields every non-metric item carries. */
  const item = { ...context, itemCount, timestamp, dimensions, measurements };
  const text = (field: string) => String(base[field] ?? '');
  const store = options.store;
  switch (envelope.data?.baseType) {
    case 'MetricData': {
      const metrics = Array.isArray(base.metrics) ? (base.metrics as Array<Record<string, unknown>>) : [];
      if (metrics.length === 0) return 'MetricData without metrics.';
      for (const m of metrics) {
        const v = Number(m.value);
        if (typeof m.name !== 'string' || !Number.isFinite(v)) return 'A metric needs a name and a numeric value.';
        const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
        store.writeMetric({
          ...context,
          timestamp,
          name: m.name,
          value: v,
          namespace: typeof m.ns === 'string' ? m.ns : '',
          dimensions,
          count: num(m.count) ?? 1,
          sum: v,
          min: num(m.min) ?? v,
          max: num(m.max) ?? v,
          stdDev: num(m.stdDev) ?? 0,
        });
      }
      return undefined;
    }
    case 'RequestData':
      store.writeRequest({
        ...item,
        id: text('id'),
        name: text('name'),
        url: text('url'),
        resultCode: text('responseCode'),
        durationMs: durationMs(base.duration),
        success: base.success !== false,
        source: text('source'),
      });
      return undefined;
    case 'RemoteDependencyData':
      store.writeDependency({
        ...item,
        id: text('id'),
        name: text('name'),
        target: text('target'),
        type: text('type'),
        data: text('data'),
        resultCode: text('resultCode'),
        durationMs: durationMs(base.duration),
        success: base.success !== false,
      });
      return undefined;
    case 'MessageData':
      store.writeTrace({ ...item, message: text('message'), severityLevel: severity(base.severityLevel) });
      return undefined;
    case 'EventData':
      store.writeEvent({ ...item, name: text('name') });
      return undefined;
    default:
      return `Telemetry of baseType '${envelope.data?.baseType ?? '(none)'}' is not stored by this emulator (supported: MetricData, RequestData, RemoteDependencyData, MessageData, EventData).`;
  }
}

function stringRecord(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

function numberRecord(value: unknown): Record<string, number> {
  if (!value || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => typeof v === 'number') as Array<[string, number]>);
}

/** `[d.]hh:mm:ss[.fffffff]` (the SDKs' TimeSpan) or a number of milliseconds. */
export function durationMs(value: unknown): number {
  if (typeof value === 'number') return value;
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(String(value ?? ''));
  if (!m) return 0;
  const [, d, h, min, s, frac] = m;
  return ((Number(d ?? 0) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(s) * 1000 + (frac ? Number(`0.${frac}`) * 1000 : 0);
}

const SEVERITIES: Record<string, number> = { verbose: 0, information: 1, warning: 2, error: 3, critical: 4 };

function severity(value: unknown): number {
  if (typeof value === 'number') return value;
  return SEVERITIES[String(value ?? '').toLowerCase()] ?? 1;
}
