/**
 * Fault injection by rule: `models.faults.add({ deployment?, probability? | next?, kind, … })`.
 * A rule with neither `probability` nor `next` applies to every matching request.
 */
import type { Random } from './random.js';

export type FaultKind = 'status' | 'timeout' | 'reset' | 'malformed-json' | 'truncated-stream';

export interface FaultRule {
  kind: FaultKind;
  /** Only this deployment (name); all when omitted. */
  deployment?: string;
  /** Only this operation: 'chat' | 'completions' | 'embeddings' | 'responses'. */
  operation?: string;
  /** Chance per matching request, 0–1 (seeded, so reproducible). */
  probability?: number;
  /** Apply to the next n matching requests, then retire. */
  next?: number;
  /** For kind 'status': 429, 500, 503… (default 503). */
  status?: number;
  /** Retry-After for status faults (default 1000 ms for 429/503). */
  retryAfterMs?: number;
  /** For 'timeout': answer 408 after this long; omitted = hang until the request is aborted. */
  timeoutMs?: number;
  /** For 'truncated-stream': SSE events (or body halves) sent before the cut (default: half). */
  afterEvents?: number;
}

export interface FaultHandle {
  readonly id: number;
  remove(): void;
}

export interface Faults {
  add(rule: FaultRule): FaultHandle;
  clear(): void;
  list(): ReadonlyArray<FaultRule>;
}

export class FaultConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultConfigError';
  }
}

const KINDS: readonly FaultKind[] = ['status', 'timeout', 'reset', 'malformed-json', 'truncated-stream'];

export interface FaultRegistry extends Faults {
  /** The rule to apply to this request, if any (consumes one `next`). */
  pick(deployment: string, operation: string, random: Random): FaultRule | undefined;
}

export function createFaultRegistry(): FaultRegistry {
  let rules: Array<{ id: number; rule: FaultRule; left: number | undefined }> = [];
  let nextId = 1;
  return {
    add(rule) {
      if (!KINDS.includes(rule.kind)) throw new FaultConfigError(`Unknown fault kind '${String(rule.kind)}'; use one of: ${KINDS.join(', ')}.`);
      if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
        throw new FaultConfigError(`Fault probability must be between 0 and 1, got ${rule.probability}.`);
      }
      if (rule.next !== undefined && !(Number.isInteger(rule.next) && rule.next >= 1)) throw new FaultConfigError(`Fault 'next' must be a positive integer, got ${rule.next}.`);
      const id = nextId++;
      rules.push({ id, rule: { ...rule }, left: rule.next });
      return {
        id,
        remove: () => {
          rules = rules.filter((r) => r.id !== id);
        },
      };
    },
    clear() {
      rules = [];
    },
    list() {
      return rules.map((r) => r.rule);
    },
    pick(deployment, operation, random) {
      for (const r of rules) {
        if (r.rule.deployment !== undefined && r.rule.deployment !== deployment) continue;
        if (r.rule.operation !== undefined && r.rule.operation !== operation) continue;
        if (r.rule.probability !== undefined && random.next() >= r.rule.probability) continue;
        if (r.left !== undefined) {
          r.left--;
          if (r.left <= 0) rules = rules.filter((x) => x !== r);
        }
        return r.rule;
      }
      return undefined;
    },
  };
}
