/// <reference lib="dom" />
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, rememberCsrfToken, type Problem } from './api';
import { timeZone } from './format';
import { html } from './html';
import type { Session } from './types';
import { Dashboard } from './views/dashboard';
import { ProblemView } from './views/problem';
import { SignIn } from './views/sign-in';
import { SystemStatus } from './views/system-status';
import { TenantDetail } from './views/tenant-detail';

const meta = (name: string) => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
const webUi = { url: meta('temporal-web-ui'), namespace: meta('temporal-namespace') };

function useHashRoute(): string {
  const [route, setRoute] = useState(location.hash.replace(/^#/, '') || '/');
  useEffect(() => {
    const onChange = () => setRoute(location.hash.replace(/^#/, '') || '/');
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | undefined>();
  const [banner, setBanner] = useState<string | undefined>();
  const route = useHashRoute();

  useEffect(() => {
    api<Session>('GET', '/session').then(
      (s) => {
        rememberCsrfToken(s.csrfToken);
        setSession(s);
      },
      (err) => {
        if (err instanceof ApiError && err.problem.status === 401) setSession(null);
        else setProblem(err instanceof ApiError ? err.problem : { title: 'The API cannot be reached', status: 0 });
      },
    );
  }, []);

  useEffect(() => {
    const title = route === '/status' ? 'System Status' : route.startsWith('/tenants/') ? 'Tenant' : 'Tenants';
    document.title = `${session ? title : 'Sign in'} — entra-backup`;
  }, [route, session]);

  useEffect(() => {
    if (!banner) return;
    const timer = setTimeout(() => setBanner(undefined), 8000);
    return () => clearTimeout(timer);
  }, [banner]);

  async function signOut() {
    await api('DELETE', '/session').catch(() => undefined);
    rememberCsrfToken(undefined);
    setSession(null);
  }

  if (problem) return html`<main id="main"><${ProblemView} problem=${problem} /></main>`;
  if (session === undefined) return html`<main id="main"><p>Loading…</p></main>`;
  if (session === null) return html`<${SignIn} onSignedIn=${setSession} />`;

  const detail = route.match(/^\/tenants\/([0-9a-f-]{36})$/)?.[1];
  return html`<a
      class="skip"
      href="#main"
      onClick=${(e: Event) => {
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}
      >Skip to content</a
    >
    <header class="top">
      <span class="brand">entra-backup</span>
      <nav aria-label="Main">
        <a href="#/" aria-current=${route === '/' ? 'page' : undefined}>Tenants</a>
        <a href="#/status" aria-current=${route === '/status' ? 'page' : undefined}>System Status</a>
      </nav>
      <span class="muted who"
        >${session.principal.kind === 'reseller' ? 'Reseller' : 'Organization user'} · times in ${timeZone()}</span
      >
      <button type="button" onClick=${signOut}>Sign out</button>
    </header>
    <div class="banner-slot" role="status" aria-live="polite">${banner && html`<p class="banner">${banner}</p>`}</div>
    ${
      route === '/status'
        ? html`<${SystemStatus} webUi=${webUi} />`
        : detail
          ? html`<${TenantDetail} tenantId=${detail} />`
          : html`<${Dashboard} banner=${setBanner} />`
    }`;
}

render(html`<${App} />`, document.getElementById('app')!);
