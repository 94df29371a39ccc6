// The ficus console's page: Preact with htm (tagged templates, no build step). It holds the
// admin's access token for the tab's life only (sessionStorage) and asks the console's API for
// everything; the server checks the token and the admin role on every call.
import { h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);
const TOKEN = 'ficus-console-token';
const REFRESH_MS = 3000;

/** A call to the console's API: JSON, or the server's problem thrown with its detail. */
async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN);
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, { ...options, headers });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.detail ?? `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function SignIn({ onSignedIn }) {
  const [problem, setProblem] = useState();
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      const session = await api('/api/session', {
        method: 'POST',
        body: JSON.stringify({ email: form.get('email'), password: form.get('password') }),
      });
      sessionStorage.setItem(TOKEN, session.accessToken);
      onSignedIn();
    } catch (error) {
      setProblem(error.message);
    }
  };
  return html`<form class="sign-in" onSubmit=${submit} aria-label="sign in">
    <h2>Sign in with a shop admin account</h2>
    <label>Email <input name="email" type="email" autocomplete="username" required /></label>
    <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
    <button type="submit">Sign in</button>
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
  </form>`;
}

function ProcessCard({ process }) {
  const state = process.ready === 'unreachable' ? 'down' : process.ready ? 'ready' : 'not-ready';
  const label = { down: 'down (does not answer)', ready: 'ready', 'not-ready': 'not ready' }[state];
  const breakers = Object.entries(process.breakers).filter(([, s]) => s !== 'closed');
  const backlog = Object.values(process.outboxBacklog).reduce((a, b) => a + b, 0);
  const open = breakers.length ? breakers.map(([t, s]) => `${t} ${s}`).join(', ') : 'all closed';
  const health = `breakers ${open}; outbox backlog ${backlog}; consumer lag ${process.consumerLag}`;
  return html`<section class=${`process ${state}`} data-target=${process.target} aria-label=${process.target}>
    <h3>${process.target}${process.extractedFrom ? ` (extracting from ${process.extractedFrom})` : ''}</h3>
    <div class="state">${label}</div>
    <div class="modules">${process.modules.length ? process.modules.join(', ') : 'the HTTP edge only'}</div>
    <div class="muted">${health}</div>
  </section>`;
}

function MapPage({ onSignedOut }) {
  const [map, setMap] = useState();
  const [problem, setProblem] = useState();
  useEffect(() => {
    // One reading at a time: the next is asked for REFRESH_MS after the last answer, and not while
    // the tab is hidden (a hidden console costs its processes nothing).
    let stopped = false;
    let timer;
    const load = async () => {
      if (document.hidden) return schedule();
      try {
        const next = await api('/api/map');
        if (stopped) return;
        setMap(next);
        setProblem(undefined);
      } catch (error) {
        if (error.status === 401) return onSignedOut();
        if (!stopped) setProblem(error.message);
      }
      schedule();
    };
    const schedule = () => {
      if (!stopped) timer = setTimeout(load, REFRESH_MS);
    };
    load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  if (!map) return problem ? html`<p class="problem" role="alert">${problem}</p>` : html`<p>Reading the processes…</p>`;
  return html`<section aria-label="map">
    <h2>Map: topology ${map.topology.name}</h2>
    <p class="muted">${map.topology.source}; refreshed every ${REFRESH_MS / 1000} s</p>
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
    <div class="processes">${map.processes.map((process) => html`<${ProcessCard} process=${process} />`)}</div>
    ${map.callsUnavailable && html`<p class="muted">calls not counted: ${map.callsUnavailable}</p>`}
    <div class="graph" dangerouslySetInnerHTML=${{ __html: map.svg }}></div>
  </section>`;
}

function Console() {
  const [signedIn, setSignedIn] = useState(Boolean(sessionStorage.getItem(TOKEN)));
  const signOut = () => {
    sessionStorage.removeItem(TOKEN);
    setSignedIn(false);
  };
  return html`<header>
      <h1>ficus console</h1>
      ${signedIn && html`<button class="who" onClick=${signOut}>Sign out</button>`}
    </header>
    <main>
      ${
        signedIn
          ? html`<${MapPage} onSignedOut=${signOut} />`
          : html`<${SignIn} onSignedIn=${() => setSignedIn(true)} />`
      }
    </main>`;
}

render(html`<${Console} />`, document.body);
