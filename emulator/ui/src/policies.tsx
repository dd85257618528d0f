import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson, send } from './api.js';
import { useAsync } from './use-async.js';

interface PolicyDiagnostic {
  code: string;
  severity: string;
  message: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
}

interface PoliciesResponse {
  policies: Array<{ scope: string; name: string; builtIn: boolean; xml: string; diagnostics: PolicyDiagnostic[] }>;
  scopes: string[];
}

const EMPTY_POLICY = `<policies>
    <inbound>
        <base />
    </inbound>
    <backend>
        <base />
    </backend>
    <outbound>
        <base />
    </outbound>
    <on-error>
        <base />
    </on-error>
</policies>
`;

export function PoliciesView() {
  const list = useAsync(() => getJson<PoliciesResponse>('/_emulator/policies'), []);
  const [scope, setScope] = useState<string | undefined>();
  const policies = list.value?.policies ?? [];
  const shown = scope ?? policies.find((p) => p.scope.startsWith('apis/'))?.scope ?? policies[0]?.scope;
  const inForce = policies.find((p) => p.scope === shown);
  const scopes = [...new Set([...(list.value?.scopes ?? []), ...policies.map((p) => p.scope)])];
  return (
    <section class="view policies" aria-label="Policies">
      <nav class="scopes" aria-label="Policy scopes">
        <h2>Scopes</h2>
        <ul>
          {scopes.map((s) => {
            const p = policies.find((x) => x.scope === s);
            // Operations sit under their API: show the operation part only, indented.
            const operation = /^apis\/[^/]+\/operations\/(.+)$/.exec(s)?.[1];
            return (
              <li key={s} class={operation ? 'operation' : undefined}>
                <button type="button" class="link" aria-current={s === shown ? 'true' : undefined} onClick={() => setScope(s)} aria-label={s}>
                  {operation ?? s}
                </button>{' '}
                <span class="muted">{p ? (p.builtIn ? 'default' : `${p.diagnostics.length ? `${p.diagnostics.length} warning(s)` : 'in force'}`) : ''}</span>
              </li>
            );
          })}
        </ul>
      </nav>
      {shown ? <PolicyEditor key={`${shown}:${inForce?.xml.length ?? 0}`} scope={shown} policy={inForce} onApplied={list.reload} /> : <p>Loading…</p>}
    </section>
  );
}

function PolicyEditor({ scope, policy, onApplied }: { scope: string; policy: PoliciesResponse['policies'][number] | undefined; onApplied: () => void }) {
  const [text, setText] = useState(policy?.xml ?? EMPTY_POLICY);
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string; diagnostics: PolicyDiagnostic[] } | undefined>();
  const editor = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  useEffect(() => setText(policy?.xml ?? EMPTY_POLICY), [policy?.xml]);
  const diagnostics = outcome && !outcome.ok ? outcome.diagnostics : (policy?.diagnostics ?? []);
  const byLine = new Map<number, PolicyDiagnostic[]>();
  for (const d of diagnostics) byLine.set(d.line, [...(byLine.get(d.line) ?? []), d]);
  const lines = text.split('\n').length;

  const apply = async () => {
    const r = await send('PUT', `/_emulator/policies/${scope}`, text, 'application/xml');
    const body = r.json as { error?: { message?: string; details?: PolicyDiagnostic[] } } | undefined;
    if (r.ok) {
      setOutcome({ ok: true, message: `Applied at ${scope}.`, diagnostics: [] });
      onApplied();
    } else {
      setOutcome({ ok: false, message: body?.error?.message ?? `The control plane answered ${r.status}.`, diagnostics: (body?.error?.details ?? []).filter((d) => typeof d.line === 'number') });
    }
  };
  const jump = (d: PolicyDiagnostic) => {
    const el = editor.current;
    if (!el) return;
    const rows = el.value.split('\n');
    let offset = 0;
    for (let i = 0; i < d.line - 1 && i < rows.length; i++) offset += rows[i]!.length + 1;
    offset += d.column - 1;
    el.focus();
    el.setSelectionRange(offset, offset + 1);
  };

  return (
    <div class="policy-editor">
      <div class="toolbar">
        <h2>
          {scope} <span class="muted">{policy ? policy.name : 'no policy at this scope'}</span>
        </h2>
        <button type="button" class="primary" onClick={apply}>
          Apply
        </button>
        <button
          type="button"
          onClick={() => {
            setText(policy?.xml ?? EMPTY_POLICY);
            setOutcome(undefined);
          }}
        >
          Revert
        </button>
      </div>
      {outcome ? (
        <div class={outcome.ok ? 'ok-panel' : 'error-panel'} role={outcome.ok ? 'status' : 'alert'}>
          {outcome.message}
        </div>
      ) : null}
      <div class="code-edit">
        <div class="gutter" ref={gutter} aria-hidden="true">
          {Array.from({ length: lines }, (_, i) => (
            <div key={i} class={byLine.has(i + 1) ? `marked ${byLine.get(i + 1)!.some((d) => d.severity === 'error') ? 'err' : 'warn'}` : undefined} title={byLine.get(i + 1)?.map((d) => d.message).join('\n')}>
              {i + 1}
            </div>
          ))}
        </div>
        <label class="sr-only" for="policy-xml">
          Policy XML at {scope}
        </label>
        <textarea
          id="policy-xml"
          ref={editor}
          class="editor"
          spellcheck={false}
          wrap="off"
          value={text}
          aria-invalid={diagnostics.some((d) => d.severity === 'error') ? 'true' : 'false'}
          onInput={(e) => setText(e.currentTarget.value)}
          onScroll={(e) => gutter.current && (gutter.current.scrollTop = e.currentTarget.scrollTop)}
        />
      </div>
      {diagnostics.length ? (
        <ul class="diagnostics" aria-label="Load diagnostics">
          {diagnostics.map((d, i) => (
            <li key={i} class={d.severity === 'error' ? 'err' : 'warn'} data-line={d.line} data-column={d.column}>
              <button type="button" class="link" onClick={() => jump(d)}>
                line {d.line}, column {d.column}
              </button>{' '}
              <strong>{d.code}</strong> {d.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
