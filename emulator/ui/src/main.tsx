import { render } from 'preact';
import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { getJson, setAdminKey } from './api.js';
import { KqlConsole } from './kql-console.js';
import { MetricsExplorer } from './metrics.js';
import { PoliciesView } from './policies.js';
import { RequestsLog } from './requests.js';
import { TokenLimits } from './token-limits.js';
import './styles.css';

const VIEWS = [
  { id: 'metrics', title: 'Metrics', view: MetricsExplorer },
  { id: 'logs', title: 'Logs (KQL)', view: KqlConsole },
  { id: 'limits', title: 'Token limits', view: TokenLimits },
  { id: 'requests', title: 'Requests', view: RequestsLog },
  { id: 'policies', title: 'Policies', view: PoliciesView },
] as const;

type ViewId = (typeof VIEWS)[number]['id'];

function currentView(): ViewId {
  const id = location.hash.replace(/^#\/?/, '').split('?')[0];
  return (VIEWS.find((v) => v.id === id)?.id ?? 'metrics') as ViewId;
}

type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  const saved = localStorage.getItem('emulator-ui-theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function App() {
  const [view, setView] = useState<ViewId>(currentView);
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [clock, setClock] = useState<{ mode: string; iso: string } | undefined>();

  useEffect(() => {
    const onHash = () => setView(currentView());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useLayoutEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('emulator-ui-theme', theme);
  }, [theme]);
  useEffect(() => {
    const load = () => getJson<{ mode: string; iso: string }>('/_emulator/clock').then(setClock, () => setClock(undefined));
    void load();
    const timer = setInterval(load, 5_000);
    return () => clearInterval(timer);
  }, []);

  const [needsKey, setNeedsKey] = useState(false);
  useEffect(() => {
    const ask = () => setNeedsKey(true);
    addEventListener('admin-key-required', ask);
    return () => removeEventListener('admin-key-required', ask);
  }, []);

  const active = VIEWS.find((v) => v.id === view)!;
  const View = active.view;
  const onTabKey = (event: KeyboardEvent) => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const i = VIEWS.findIndex((v) => v.id === view);
    const next = VIEWS[(i + (event.key === 'ArrowRight' ? 1 : VIEWS.length - 1)) % VIEWS.length]!;
    location.hash = next.id;
    document.getElementById(`tab-${next.id}`)?.focus();
  };
  return (
    <>
      <header class="top">
        <h1>AI gateway emulator</h1>
        <nav role="tablist" aria-label="Views" onKeyDown={onTabKey}>
          {VIEWS.map((v) => (
            <a
              key={v.id}
              id={`tab-${v.id}`}
              role="tab"
              href={`#${v.id}`}
              aria-selected={v.id === view}
              aria-controls="view"
              tabIndex={v.id === view ? 0 : -1}
            >
              {v.title}
            </a>
          ))}
        </nav>
        <span class="clock" title="The emulator's clock (virtual or system)">
          {clock ? `${clock.mode} clock · ${clock.iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}` : ''}
        </span>
        <button type="button" class="theme" onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
          {theme === 'dark' ? '☀' : '☾'}
        </button>
      </header>
      {needsKey ? (
        <form
          class="admin-key"
          onSubmit={(e) => {
            e.preventDefault();
            setAdminKey(String(new FormData(e.currentTarget).get('key') ?? ''));
            location.reload();
          }}
        >
          <label for="admin-key">This emulator requires its admin key (--admin-key) for the control plane:</label>
          <input id="admin-key" name="key" type="password" autoComplete="off" required />
          <button type="submit" class="primary">
            Use key
          </button>
        </form>
      ) : null}
      <main>
        <div id="view" role="tabpanel" aria-labelledby={`tab-${view}`} data-view={view}>
          <View />
        </div>
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
