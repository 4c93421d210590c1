/// <reference lib="dom" />
import { useState } from 'preact/hooks';
import { api, ApiError, rememberCsrfToken, type Problem } from '../api';
import { html } from '../html';
import type { Session } from '../types';
import { ProblemView } from './problem';

/** The API key goes once to POST /session; the page keeps only the session's CSRF token, in memory. */
export function SignIn(props: { onSignedIn: (s: Session) => void }) {
  const [problem, setProblem] = useState<Problem | undefined>();
  const [busy, setBusy] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const input = form.elements.namedItem('apiKey') as HTMLInputElement;
    setBusy(true);
    try {
      const session = await api<Session>('POST', '/session', { apiKey: input.value });
      input.value = '';
      rememberCsrfToken(session.csrfToken);
      props.onSignedIn(session);
    } catch (err) {
      setProblem(err instanceof ApiError ? err.problem : { title: 'Sign-in failed', status: 0 });
    } finally {
      setBusy(false);
    }
  }
  return html`<main id="main" class="sign-in">
    <h1>entra-backup</h1>
    <p>
      Sign in with your reseller API key. It is exchanged for a session that ends after a few hours or when the key is
      revoked.
    </p>
    <form method="post" onSubmit=${submit}>
      <label for="apiKey">API key</label>
      <input id="apiKey" name="apiKey" type="password" autocomplete="off" required spellcheck="false" />
      <button type="submit" disabled=${busy}>Sign in</button>
    </form>
    ${problem && html`<${ProblemView} problem=${problem} />`}
  </main>`;
}
