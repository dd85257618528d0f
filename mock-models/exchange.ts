/**
 * The request and response shapes the model core works on. `handle(request)` adapts a fetch API `Request` to a
 * `ModelRequest` and the `ModelResponse` back to a `Response`; the emulator's in-process forwarder calls the core
 * directly (`directCall`) without building web `Request`/`Response`/`Headers` objects per request.
 */

/** What the core reads of a request. */
export interface ModelRequest {
  /** Upper-case method. */
  method: string;
  url: URL;
  /** Header value by lower-case name, as `Headers.get` returns it; null when absent. */
  header(name: string): string | null;
  /** The body as UTF-8 text (a leading BOM dropped, as `Request.text()` does); read only by model calls. */
  text(): string | Promise<string>;
  signal: AbortSignal;
}

/** What the core answers: status, headers (lower-case names) and a text or streamed body. */
export interface ModelResponse {
  status: number;
  headers: ModelHeaders;
  body: string | ReadableStream<Uint8Array>;
}

/**
 * Response headers with `Headers` semantics for the names and values the core sets (lower-cased names, one
 * value per name, `entries()` sorted by name as `Headers` iterates). Values from scripts go through `setChecked`,
 * which validates and normalises them exactly as `Headers.set` does.
 */
export class ModelHeaders {
  readonly #values = new Map<string, string>();

  constructor(init?: Record<string, string>) {
    if (init) for (const name in init) this.#values.set(name.toLowerCase(), init[name]!);
  }

  /** For values the core produces itself (ids, counts, fixed strings). */
  set(name: string, value: string): void {
    this.#values.set(name.toLowerCase(), value);
  }

  /** For values from outside (scripted steps): `Headers.set` validation and whitespace normalisation. */
  setChecked(name: string, value: string): void {
    const probe = new Headers();
    probe.set(name, value);
    this.#values.set(name.toLowerCase(), probe.get(name)!);
  }

  get(name: string): string | null {
    return this.#values.get(name.toLowerCase()) ?? null;
  }

  entries(): Array<[string, string]> {
    return [...this.#values].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}

/** The core's answer to a direct call: status, sorted headers, and the body as text or a stream. */
export type DirectCall = (request: ModelRequest) => Promise<ModelResponse>;

const directCalls = new WeakMap<object, { handle: unknown; call: DirectCall }>();

/** Registers the direct call of a `MockModels` (used by `createMockModels`) next to its own `handle`. */
export function registerDirectCall(models: { handle: unknown }, call: DirectCall): void {
  directCalls.set(models, { handle: models.handle, call });
}

/**
 * The direct call behind a `MockModels` made by `createMockModels`, or undefined for any other implementation and
 * when its `handle` was replaced (a spy, a wrapper): callers then use `handle(request)`, so whatever replaced it
 * sees every call. The response is validated as `new Response` would validate it.
 */
export function directCallOf(models: { handle: unknown }): DirectCall | undefined {
  const entry = directCalls.get(models);
  return entry !== undefined && entry.handle === models.handle ? entry.call : undefined;
}

/** Statuses `new Response(body, { status })` refuses with a body (or at all): checked so the direct call throws alike. */
export function assertResponseStatus(response: ModelResponse): void {
  const s = response.status;
  if (s >= 200 && s <= 599 && s !== 204 && s !== 205 && s !== 304) return;
  // Let the web API raise its own error (RangeError / TypeError, same message as `handle` gives).
  void new Response(response.body, { status: s });
}
