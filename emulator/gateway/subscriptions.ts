import type { ResolvedApi, ResolvedConfig, ResolvedSubscription } from '../config/load.js';

export type GateResult =
  | { ok: true; subscription: ResolvedSubscription | null; key: string | null; productId: string | null }
  | { ok: false; reason: 'missing' | 'invalid' };

/**
 * The subscription-key gate that runs before any policy (policies.md §2): the API's header first,
 * then its query parameter; only active subscriptions whose scope covers the API authorize.
 */
export class SubscriptionGate {
  private byKey = new Map<string, ResolvedSubscription>();

  constructor(private readonly config: Pick<ResolvedConfig, 'subscriptions' | 'products'>) {
    this.rebuild();
  }

  rebuild(): void {
    this.byKey.clear();
    for (const s of this.config.subscriptions) {
      this.byKey.set(s.primaryKey, s);
      this.byKey.set(s.secondaryKey, s);
    }
  }

  check(api: ResolvedApi, headers: { get(name: string): string[] | undefined }, query: URLSearchParams): GateResult {
    const fromHeader = headers.get(api.headerName)?.[0];
    const key = fromHeader ?? query.get(api.queryName) ?? null;
    const openProduct = this.config.products.find((p) => !p.subscriptionRequired && p.apis.includes(api.id));
    if (key === null) {
      if (openProduct) return { ok: true, subscription: null, key: null, productId: openProduct.id };
      if (!api.subscriptionRequired) return { ok: true, subscription: null, key: null, productId: null };
      return { ok: false, reason: 'missing' };
    }
    const subscription = this.byKey.get(key);
    const authorized = subscription && subscription.state === 'active' && this.covers(subscription, api);
    if (!authorized) {
      // A wrong key on an API that does not require one still gets through (without a subscription).
      if (!api.subscriptionRequired) return { ok: true, subscription: null, key: null, productId: null };
      return { ok: false, reason: 'invalid' };
    }
    const productId = subscription.scope.kind === 'product' ? subscription.scope.productId : null;
    return { ok: true, subscription, key, productId };
  }

  private covers(subscription: ResolvedSubscription, api: ResolvedApi): boolean {
    const scope = subscription.scope;
    if (scope.kind === 'all') return true;
    if (scope.kind === 'api') return scope.apiId === api.id;
    return this.config.products.some((p) => p.id === scope.productId && p.apis.includes(api.id));
  }
}
