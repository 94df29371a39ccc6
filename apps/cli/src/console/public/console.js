// The ficus console's page: Preact with htm (tagged templates, no build step). It holds the
// admin's access token for the tab's life only (sessionStorage) and asks the console's API for
// everything; the server checks the token and the admin role on every call.
import { h, render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import uPlot from 'uplot';

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

/** A table's head: one header cell per column name (an empty name: a column of buttons). */
function Head({ columns }) {
  return html`<thead>
    <tr>
      ${columns.map((column) => html`<th>${column}</th>`)}
    </tr>
  </thead>`;
}

/** A table of plain cells: one row per item, one cell per column. */
function Table({ label, className, columns, rows }) {
  return html`<table class=${className} aria-label=${label}>
    <${Head} columns=${columns} />
    <tbody>
      ${rows.map(
        (cells) =>
          html`<tr>
            ${cells.map((cell) => html`<td>${cell}</td>`)}
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** A row of one bounded context, where it runs, then the page's own cells (`children`). */
function ContextRow({ context, children }) {
  return html`<tr data-context=${context.context}>
    <td>${context.context}</td>
    <td>${context.runsIn}</td>
    ${children}
  </tr>`;
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
    <${Charts} series=${map.series} />
  </section>`;
}

/** What the map's charts draw from its readings' series, one chart each. */
const CHARTS = [
  { field: 'perSecond', title: 'calls per second' },
  { field: 'failingPercent', title: 'calls failing (%)' },
  { field: 'meanMs', title: 'mean latency (ms), as the callers saw it' },
];
const COLOURS = ['#2f6f3e', '#b5542c', '#3b5ba5', '#9a7b1c', '#7a3f8f', '#2a8a8a', '#8a2a4a', '#555555'];
/** At most this many edges are drawn: the busiest over the readings kept. */
const CHARTED_EDGES = 8;

/** The busiest edges' rates, failures and latencies over the console's recent readings (uPlot). */
function Charts({ series }) {
  const busiest = Object.entries(series.edges)
    .map(([key, values]) => [key, values.perSecond.reduce((sum, value) => sum + (value ?? 0), 0)])
    .sort((a, b) => b[1] - a[1])
    .slice(0, CHARTED_EDGES)
    .map(([key]) => key);
  if (series.at.length < 2 || busiest.length === 0) {
    return html`<p class="muted">The charts start once two readings have seen calls.</p>`;
  }
  return html`<div class="charts" aria-label="charts">
    ${CHARTS.map(
      (chart) =>
        html`<${Chart} key=${`${chart.field}:${busiest.join()}`} chart=${chart} edges=${busiest} series=${series} />`,
    )}
  </div>`;
}

function Chart({ chart, edges, series }) {
  const element = useRef();
  const plot = useRef();
  const data = [series.at, ...edges.map((key) => series.edges[key][chart.field])];
  useEffect(() => {
    plot.current = new uPlot(
      {
        title: chart.title,
        width: 420,
        height: 220,
        scales: { x: { time: true } },
        series: [
          {},
          ...edges.map((key, index) => ({ label: key, stroke: COLOURS[index % COLOURS.length], width: 1.5 })),
        ],
      },
      data,
      element.current,
    );
    return () => plot.current.destroy();
  }, []);
  useEffect(() => {
    plot.current.setData(data);
  });
  return html`<figure class="chart" aria-label=${chart.title} ref=${element}></figure>`;
}

const FINAL = new Set(['CONFIRMED', 'FAILED']);

/**
 * Calls `read` now and again REFRESH_MS after each answer (not while the tab is hidden) until
 * `done(answer, previousAnswer)`; a 400, 401, 403 or 404 ends it too. `reload()` reads at once;
 * an answer older than the latest asked for is dropped, and so is one for other `keys`.
 */
function usePolling(read, done, keys) {
  const [state, setState] = useState({});
  const reload = useRef(() => undefined);
  const forKeys = keys.join('\n');
  useEffect(() => {
    let stopped = false;
    let timer;
    let previous;
    let asked = 0;
    const load = async () => {
      clearTimeout(timer);
      const ask = ++asked;
      if (!document.hidden) {
        try {
          const value = await read();
          if (stopped || ask !== asked) return;
          setState({ value, keys: forKeys });
          if (done(value, previous)) return;
          previous = value;
        } catch (error) {
          if (stopped || ask !== asked) return;
          setState((before) => ({ value: error.status === 404 ? undefined : before.value, error, keys: forKeys }));
          if ([400, 401, 403, 404].includes(error.status)) return;
        }
      }
      if (!stopped) timer = setTimeout(load, REFRESH_MS);
    };
    reload.current = load;
    load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, keys);
  // What was read for other keys (the order before this one) is not shown under these.
  const current = state.keys === forKeys ? state : {};
  return { value: current.value, error: current.error, reload: () => reload.current() };
}

function OrdersPage({ id, customer, customerPage, onSignedOut }) {
  const find = (event) => {
    event.preventDefault();
    const value = String(new FormData(event.currentTarget).get('id')).trim();
    const kind = new FormData(event.currentTarget).get('kind');
    location.hash = `#/${kind}/${encodeURIComponent(value)}`;
  };
  return html`<section aria-label="orders">
    <h2>Orders</h2>
    <form class="find" onSubmit=${find} aria-label="find an order">
      <input
        name="id"
        aria-label="Order or customer id"
        placeholder="an order id or a customer id"
        required
        value=${id ?? customer ?? ''}
      />
      <select name="kind" aria-label="Find">
        <option value="orders" selected=${!customer}>order</option>
        <option value="customers" selected=${Boolean(customer)}>customer’s orders</option>
      </select>
      <button type="submit">Find</button>
    </form>
    ${id && html`<${OrderView} id=${id} onSignedOut=${onSignedOut} />`}
    ${customer && html`<${CustomerOrders} id=${customer} page=${customerPage} onSignedOut=${onSignedOut} />`}
  </section>`;
}

function Problem({ error, onSignedOut }) {
  useEffect(() => {
    if (error?.status === 401) onSignedOut();
  }, [error]);
  return error ? html`<p class="problem" role="alert">${error.message}</p>` : null;
}

const PAGE_SIZE = 20;

/** A customer's orders, newest first, a page of PAGE_SIZE at a time (#/customers/<id>/<page>). */
function CustomerOrders({ id, page, onSignedOut }) {
  const { value, error } = usePolling(
    () => api(`/api/customers/${encodeURIComponent(id)}/orders?page=${page}`),
    () => true,
    [id, page],
  );
  if (!value) return html`<${Problem} error=${error} onSignedOut=${onSignedOut} />`;
  if (value.items.length === 0) return html`<p>No orders of customer ${id}${page > 1 ? ` on page ${page}` : ''}.</p>`;
  const pageLink = (to, label) => html`<a href=${`#/customers/${encodeURIComponent(id)}/${to}`}>${label}</a>`;
  const first = (page - 1) * PAGE_SIZE + 1;
  return html`<table class="orders" aria-label="customer's orders">
      <${Head} columns=${['order', 'status', 'items', 'total', 'placed']} />
      <tbody>
        ${value.items.map(
          (order) =>
            html`<tr>
              <td><a href=${`#/orders/${order.orderId}`}>${order.orderId}</a></td>
              <td>${order.status}</td>
              <td>${order.itemCount}</td>
              <td>${money(order.total)}</td>
              <td>${new Date(order.createdAt).toLocaleString()}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <p class="muted">
      ${first}–${first + value.items.length - 1} of ${value.total} ${page > 1 && pageLink(page - 1, 'newer')}
      ${value.total > page * PAGE_SIZE && pageLink(page + 1, 'older')}
    </p>`;
}

/** Money as the shop's contracts carry it: minor units and a currency. */
function money(total) {
  return total && Number.isInteger(total.amountMinor)
    ? `${(total.amountMinor / 100).toFixed(2)} ${total.currency}`
    : '';
}

function OrderView({ id, onSignedOut }) {
  const { value, error } = usePolling(
    () => api(`/api/orders/${encodeURIComponent(id)}`),
    // Once the saga has ended, its last spans may still be on their way: read until they stop coming.
    (answer, previous) => FINAL.has(answer.status) && answer.trace?.spans.length === previous?.trace?.spans.length,
    [id],
  );
  if (!value) return html`<${Problem} error=${error} onSignedOut=${onSignedOut} />`;
  const { order } = value.details;
  const start = Date.parse(value.timeline[0]?.at ?? order.createdAt);
  const lines = order.items.map((item) => `${item.quantity} × ${item.productName ?? item.sku}`).join(', ');
  const summary = `; ${money(order.total)}; ${lines}${order.failureReason ? `; failed: ${order.failureReason}` : ''}`;
  return html`<article class="order" aria-label="order ${id}">
    <h3>Order ${order.id}: <span class="status" data-status=${value.status}>${value.status}</span></h3>
    <p class="muted">customer <a href=${`#/customers/${order.customerId}`}>${order.customerId}</a>${summary}</p>
    <${Problem} error=${error} onSignedOut=${onSignedOut} />
    <h4>Saga</h4>
    <ol class="timeline" aria-label="saga timeline">
      ${value.timeline.map(
        (step) =>
          html`<li class=${step.kind ?? 'step'} data-step=${step.step}>
            <span class="at">+${Date.parse(step.at) - start} ms</span>
            <span class="context">${step.context ?? '?'}</span>
            <strong>${step.step}</strong>
            ${step.kind === 'compensation' ? html` <em>compensation</em>` : ''}
            ${step.detail && html` <span class="muted">${detailText(step.detail)}</span>`}
          </li>`,
      )}
    </ol>
    ${value.trace && html`<${TraceView} trace=${value.trace} />`}
  </article>`;
}

function detailText(detail) {
  const shown = (value) => {
    if (Array.isArray(value)) return value.map(shown).join(', ');
    if (value && typeof value === 'object') {
      if ('amountMinor' in value) return money(value);
      if ('sku' in value && 'quantity' in value) return `${value.quantity} × ${value.sku}`;
      return JSON.stringify(value);
    }
    return String(value);
  };
  return Object.entries(detail)
    .map(([key, value]) => `${key} ${shown(value)}`)
    .join('; ');
}

/** The spans in tree order (each after its parent, siblings by start), each with its depth. */
function spanTree(spans) {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map();
  for (const span of spans) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : 'root';
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const ordered = [];
  const seen = new Set();
  const visit = (parent, depth) => {
    for (const span of children.get(parent) ?? []) {
      if (seen.has(span.spanId)) continue; // a span that names itself (or a loop) as its parent
      seen.add(span.spanId);
      ordered.push({ span, depth });
      visit(span.spanId, depth + 1);
    }
  };
  visit('root', 0);
  return ordered;
}

function TraceView({ trace }) {
  const link =
    trace.link && html`<a href=${trace.link} target="_blank" rel="noopener noreferrer">in the tracing backend</a>`;
  if (trace.spans.length === 0) {
    const why = trace.keptBy.length
      ? 'no span of it is in the processes’ buffers (gone since, or the trace was sampled out: OTEL_TRACES_SAMPLER)'
      : 'the processes keep no spans (start them with FICUS_TRACE_BUFFER=2000 to see them here)';
    return html`<h4>Trace</h4>
      <p class="muted">trace ${trace.traceId}: ${why}. ${link}</p>`;
  }
  const start = trace.spans[0].startMs;
  const end = Math.max(...trace.spans.map((span) => span.startMs + span.durationMs));
  const width = Math.max(end - start, 1);
  return html`<h4>Trace</h4>
    <p class="muted">
      trace ${trace.traceId}: ${trace.spans.length} spans from ${trace.keptBy.join(', ')}
      ${trace.unreachable.length ? `; not answering: ${trace.unreachable.join(', ')}` : ''}. ${link}
    </p>
    <table class="trace" aria-label="trace">
      <${Head} columns=${['process', 'span', 'start', 'took', '']} />
      <tbody>
        ${spanTree(trace.spans).map(
          ({ span, depth }) =>
            html`<tr class=${span.error ? 'error' : ''}>
              <td>${span.service}</td>
              <td style=${{ paddingLeft: `${0.5 + Math.min(depth, 12) * 0.8}rem` }}>
                ${span.name}
                ${(span.events ?? []).map(
                  (event) =>
                    html`<div class="muted">· ${event.name} +${(event.atMs - span.startMs).toFixed(1)} ms</div>`,
                )}
                ${
                  span.eventsNotKept
                    ? html`<div class="muted">· and ${span.eventsNotKept} more events, not kept</div>`
                    : ''
                }
              </td>
              <td>+${(span.startMs - start).toFixed(1)} ms</td>
              <td>${span.durationMs.toFixed(1)} ms</td>
              <td class="bar">
                <span
                  style=${{
                    marginLeft: `${((span.startMs - start) / width) * 100}%`,
                    width: `${Math.max((span.durationMs / width) * 100, 0.5)}%`,
                  }}
                ></span>
              </td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

const SHIFT_STEPS = [10, 50, 100];

function MigrationPage({ onSignedOut }) {
  const { value, error, reload } = usePolling(
    () => api('/api/migration'),
    () => false,
    [],
  );
  if (!value) return html`<${Problem} error=${error} onSignedOut=${onSignedOut} />`;
  const extracting = value.contexts.filter((context) => context.extraction || context.unavailable);
  return html`<section aria-label="migration">
    <h2>Migration: topology ${value.topology.name}</h2>
    <p class="muted">${value.topology.source}; refreshed every ${REFRESH_MS / 1000} s</p>
    <${Problem} error=${error} onSignedOut=${onSignedOut} />
    <table class="contexts" aria-label="where each context runs">
      <${Head} columns=${['context', 'runs in', 'extraction']} />
      <tbody>
        ${value.contexts.map(
          (context) =>
            html`<${ContextRow} context=${context}>
              <td>
                ${
                  context.extraction
                    ? `to ${context.extraction.extracted}: shift ${context.extraction.shift} %, shadow ` +
                      (context.extraction.shadow ? 'on' : 'off')
                    : context.unavailable
                      ? 'cannot be read now'
                      : html`<span class="muted">none (ficus extract ${context.context})</span>`
                }
              </td>
            <//>`,
        )}
      </tbody>
    </table>
    ${
      extracting.length === 0 &&
      html`<p class="muted">No context is being extracted: run ficus plan, then ficus extract.</p>`
    }
    ${extracting.map(
      (context) =>
        html`<${Extraction}
          key=${context.context}
          context=${context}
          onChanged=${reload}
          onSignedOut=${onSignedOut}
        />`,
    )}
  </section>`;
}

function Extraction({ context, onChanged, onSignedOut }) {
  const [asking, setAsking] = useState();
  const { busy, problem, send } = useGuardedChange({
    close: () => setAsking(undefined),
    onChanged,
    onSignedOut,
  });
  const e = context.extraction;
  if (!e)
    return html`<article class="extraction">
      <h3>${context.context}</h3>
      <p class="problem" role="alert">${context.unavailable}</p>
    </article>`;
  const report = e.shadowReport;
  const compared = report.matches + report.mismatches + report.errors;
  const measured = e.measured.recent ?? e.measured.total;
  const confirm = (reason) => send(`/api/migration/${context.context}/${asking.kind}`, { ...asking.body, reason });
  const shiftTo = (percent, label) => ({
    kind: 'shift',
    body: { percent, expected: e.shift },
    label,
    question: `${label}: ${percent} % of ${context.context}'s calls to ${e.extracted}?`,
  });
  const shadowTo = (on) => ({
    kind: 'shadow',
    body: { on, expected: e.shadow },
    label: `Shadow ${on ? 'on' : 'off'}`,
    question: `Turn shadowing of ${context.context} ${on ? 'on' : 'off'}?`,
  });
  const nextShare = SHIFT_STEPS.find((step) => step > e.shift);
  const matched = compared ? `${report.matchRate.toFixed(2)} % of ${compared} reads matched` : 'no comparison yet';
  const shadowText = `${e.shadow ? 'on' : 'off'}; ${matched}`;
  const measuredOver = e.measured.recent ? `in the last ${e.measured.recent.seconds} s` : 'since the owner started';
  return html`<article
    class="extraction"
    data-context=${context.context}
    aria-label=${`extraction of ${context.context}`}
  >
    <h3>${context.context}: ${e.owner} → ${e.extracted}</h3>
    <dl>
      <dt>shift</dt>
      <dd class="shift">${e.shift} %${e.sticky ? ' (sticky per aggregate)' : ''}</dd>
      <dt>measured</dt>
      <dd class="measured">
        ${measured ? `${measured.percent} % of ${measured.calls} calls ${measuredOver}` : 'no call routed yet'}
      </dd>
      <dt>shadow</dt>
      <dd class="shadow">${shadowText}</dd>
      <dt>error rate</dt>
      <dd>in-process ${rate(e.errorRates.inProcess)}, extracted ${rate(e.errorRates.extracted)}</dd>
      <dt>next step</dt>
      <dd class=${`next ${e.next.safe ? 'safe' : 'not-yet'}`}>
        ${e.next.safe ? 'safe' : 'not yet'}: ${e.next.step} (${e.next.why})
      </dd>
    </dl>
    <div class="actions">
      <button onClick=${() => setAsking(shadowTo(!e.shadow))}>Shadow ${e.shadow ? 'off' : 'on'}</button>
      ${
        nextShare !== undefined &&
        html`<button onClick=${() => setAsking(shiftTo(nextShare, `Shift to ${nextShare} %`))}>
          Shift to ${nextShare} %
        </button>`
      }
      ${
        e.shift > 0 &&
        html`<button class="danger" onClick=${() => setAsking(shiftTo(0, 'Roll back'))}>Roll back to 0 %</button>`
      }
    </div>
    ${
      asking &&
      html`<${Confirm}
        asking=${asking}
        next=${e.next}
        onConfirm=${confirm}
        busy=${busy}
        onCancel=${() => setAsking(undefined)}
      />`
    }
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
    ${
      report.mismatchSamples.length > 0 &&
      html`<details class="mismatches">
        <summary>${report.mismatches} mismatches (latest ${report.mismatchSamples.length})</summary>
        <table aria-label="mismatches">
          <${Head} columns=${['call', 'request', 'in-process', 'extracted']} />
          <tbody>
            ${report.mismatchSamples.map(
              (m) =>
                html`<tr>
                  <td>${m.call}</td>
                  <td><code>${JSON.stringify(m.request)}</code></td>
                  <td><code>${JSON.stringify(m.inProcess)}</code></td>
                  <td><code>${JSON.stringify(m.extracted)}</code></td>
                </tr>`,
            )}
          </tbody>
        </table>
      </details>`
    }
    <h4>Changes</h4>
    <ol class="log" aria-label=${`changes of ${context.context}`}>
      ${e.log.map((change) => html`<li>${changeText(change)}</li>`)}
    </ol>
  </article>`;
}

/**
 * A change a form asks for, guarded by what the page showed: sent once at a time; done, the form
 * closes and the page reads again; refused, the server's message shows, and a 409 (changed
 * meanwhile) closes the form too, since what it showed is gone. A 401 signs out.
 */
function useGuardedChange({ close, onChanged, onSignedOut }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState();
  const send = async (path, body) => {
    if (busy) return;
    setBusy(true);
    try {
      await api(path, { method: 'POST', body: JSON.stringify(body) });
      setProblem(undefined);
      close();
      onChanged();
    } catch (error) {
      if (error.status === 401) return onSignedOut();
      setProblem(error.message);
      if (error.status === 409) close();
      onChanged();
    } finally {
      setBusy(false);
    }
  };
  return { busy, problem, setProblem, send };
}

function changeText(change) {
  const why = change.reason ? ` (${change.reason})` : '';
  const when = new Date(change.at).toLocaleString();
  return `${when}: ${change.flag} ${change.from ?? 'default'} → ${change.to}, by ${change.by}${why}`;
}

/** Asks before a change: what it does, what the next-step check says, and why (for the log). */
function Confirm({ asking, next, busy, onConfirm, onCancel }) {
  const submit = (event) => {
    event.preventDefault();
    onConfirm(String(new FormData(event.currentTarget).get('reason') ?? ''));
  };
  return html`<form class="confirm" role="dialog" aria-label="confirm the change" onSubmit=${submit}>
    <p><strong>${asking.question}</strong></p>
    <p class="muted">The next-step check says ${next.safe ? 'safe' : 'not yet'}: ${next.step} (${next.why}).</p>
    <label>Why (for the flag log) <input name="reason" maxlength="500" /></label>
    <button type="submit" disabled=${busy}>Confirm: ${asking.label}</button>
    <button type="button" onClick=${onCancel}>Cancel</button>
  </form>`;
}

function rate(value) {
  return value === undefined ? 'n/a' : `${value.toFixed(2)} %`;
}

/** Outbox backlogs, consumers and their lag, and dead letters with replay (#/messaging). */
function MessagingPage({ onSignedOut }) {
  const { value, error, reload } = usePolling(
    () => api('/api/messaging'),
    () => false,
    [],
  );
  const [asking, setAsking] = useState();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState();
  if (!value) return html`<${Problem} error=${error} onSignedOut=${onSignedOut} />`;
  const ask = (replay) => {
    setOutcome(undefined);
    setAsking(replay);
  };
  const confirm = async () => {
    if (busy) return;
    setBusy(true);
    try {
      const path = asking.id ? `${asking.context}/${asking.id}/replay` : `${asking.context}/replay`;
      const answer = await api(`/api/dead-letters/${path}`, { method: 'POST', body: '{}' });
      setAsking(undefined);
      await reload(); // the outcome is shown with the list as it is after it
      setOutcome({ text: `${asking.label}: ${replayText(answer)}` });
    } catch (failure) {
      if (failure.status === 401) return onSignedOut();
      setAsking(undefined);
      setOutcome({ problem: failure.message });
      reload();
    } finally {
      setBusy(false);
    }
  };
  const { waiting, replayed, unread } = value.deadLetters;
  const waitingIn = (context) => waiting.filter((letter) => letter.context === context).length;
  const contextsWaiting = [...new Set(waiting.map((letter) => letter.context))];
  return html`<section aria-label="messaging">
    <h2>Messaging: topology ${value.topology.name}</h2>
    <p class="muted">${value.topology.source}; refreshed every ${REFRESH_MS / 1000} s</p>
    <${Problem} error=${error} onSignedOut=${onSignedOut} />
    <h3>Outboxes</h3>
    <table class="outboxes" aria-label="outboxes">
      <${Head} columns=${['context', 'runs in', 'backlog', 'oldest unsent', 'dead letters']} />
      <tbody>
        ${value.contexts.map(
          (context) =>
            html`<${ContextRow} context=${context}>
              ${
                context.outbox
                  ? html`<td class="backlog">${context.outbox.backlog}</td>
                      <td>${context.outbox.oldestSeconds.toFixed(1)} s</td>
                      <td class="dead">${context.deadLetters}</td>`
                  : html`<td colspan="3" class="problem">${context.runsIn} does not answer</td>`
              }
            <//>`,
        )}
      </tbody>
    </table>
    <h3>Consumers</h3>
    ${
      value.lag.length > 0
        ? html`<${Table}
            label="consumer lag"
            className="lag"
            columns=${['group', 'topic', 'lag', 'process']}
            rows=${value.lag.map((group) => [group.group, group.topic, group.lag, group.target])}
          />`
        : html`<p class="muted">
            No Kafka consumer group reports lag: in one process events go from the outbox to their consumers straight,
            and the outbox backlog is the lag.
          </p>`
    }
    <${Table}
      label="consumers"
      className="consumers"
      columns=${['consumer', 'process', 'events', 'mean age', 'outcomes']}
      rows=${value.consumers.map((consumer) => [
        consumer.consumer,
        consumer.target,
        consumer.handled,
        consumer.meanAgeMs === undefined ? 'n/a' : `${consumer.meanAgeMs} ms`,
        outcomesText(consumer.outcomes),
      ])}
    />
    <h3>Dead letters</h3>
    ${unread.map(
      (process) => html`<p class="problem" role="alert">dead letters of ${process.target} not read: ${process.why}</p>`,
    )}
    ${outcome?.text && html`<p class="outcome" role="status">${outcome.text}</p>`}
    ${outcome?.problem && html`<p class="problem" role="alert">${outcome.problem}</p>`}
    ${
      asking &&
      html`<form
        class="confirm"
        role="dialog"
        aria-label="confirm the replay"
        onSubmit=${(event) => {
          event.preventDefault();
          confirm();
        }}
      >
        <p><strong>${asking.question}</strong></p>
        <p class="muted">
          Its consumer handles it again in ${asking.target}; one already processed is not handled twice.
        </p>
        <button type="submit" disabled=${busy}>Confirm: ${asking.label}</button>
        <button type="button" onClick=${() => setAsking(undefined)}>Cancel</button>
      </form>`
    }
    ${
      waiting.length === 0
        ? html`<p class="muted">No dead letter waits for a replay.</p>`
        : html`<div class="actions">
              ${contextsWaiting.map(
                (context) =>
                  html`<button
                    disabled=${busy}
                    onClick=${() =>
                      ask({
                        context,
                        label: `Replay all of ${context}`,
                        question: `Replay all ${waitingIn(context)} dead letters of ${context}?`,
                        target: waiting.find((letter) => letter.context === context).target,
                      })}
                  >
                    Replay all of ${context} (${waitingIn(context)})
                  </button>`,
              )}
            </div>
            <table class="dead-letters" aria-label="dead letters">
              <${Head} columns=${['context', 'id', 'event', 'consumer', 'failed', 'reason', '']} />
              <tbody>
                ${waiting.map(
                  (letter) =>
                    html`<tr data-letter=${`${letter.context}/${letter.id}`} data-message=${letter.messageId}>
                      <td>${letter.context}</td>
                      <td>${letter.id}</td>
                      <td>
                        <details>
                          <summary>${letter.type} v${letter.version}</summary>
                          <code>${JSON.stringify(letter.payload)}</code>
                        </details>
                      </td>
                      <td>${letter.consumer}</td>
                      <td>${new Date(letter.failedAt).toLocaleString()} (${letter.attempts} attempts)</td>
                      <td class="reason">${letter.reason}</td>
                      <td>
                        <button
                          disabled=${busy}
                          onClick=${() =>
                            ask({
                              context: letter.context,
                              id: letter.id,
                              label: `Replay ${letter.context} ${letter.id}`,
                              question: `Replay dead letter ${letter.id} (${letter.type}) to ${letter.consumer}?`,
                              target: letter.target,
                            })}
                        >
                          Replay
                        </button>
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
    }
    ${
      replayed.length > 0 &&
      html`<h4>Replayed lately</h4>
        <ol class="log" aria-label="replayed dead letters">
          ${replayed.map((letter) => html`<li>${replayedText(letter)}</li>`)}
        </ol>`
    }
  </section>`;
}

function replayedText(letter) {
  const when = new Date(letter.replayedAt).toLocaleString();
  return `${when}: ${letter.context} ${letter.id} (${letter.type}) by ${letter.replayedBy ?? 'someone unknown'}`;
}

function replayText(answer) {
  if (answer.outcome) return answer.outcome.replace(/-/g, ' ');
  return outcomesText(answer.outcomes) || 'nothing was waiting';
}

function outcomesText(outcomes) {
  return Object.entries(outcomes ?? {})
    .filter(([, count]) => count > 0)
    .map(([name, count]) => `${count} ${name.replace(/-/g, ' ')}`)
    .join(', ');
}

/** Every flag of every process that keeps flags, its rules and changes, editable (#/flags). */
function FlagsPage({ onSignedOut }) {
  const { value, error, reload } = usePolling(
    () => api('/api/flags'),
    () => false,
    [],
  );
  if (!value) return html`<${Problem} error=${error} onSignedOut=${onSignedOut} />`;
  return html`<section aria-label="flags">
    <h2>Flags: topology ${value.topology.name}</h2>
    <p class="muted">
      ${value.topology.source}; refreshed every ${REFRESH_MS / 1000} s. A flag is on, off, or on for a percentage of
      subjects (customers, orders), each subject always in the same bucket; a change reaches the process at once.
    </p>
    <${Problem} error=${error} onSignedOut=${onSignedOut} />
    ${value.targets.map(
      (target) =>
        html`<article class="target-flags" data-target=${target.target} aria-label=${`flags of ${target.target}`}>
          <h3>${target.target} <span class="muted">(${target.modules.join(', ')})</span></h3>
          ${target.unavailable && html`<p class="problem" role="alert">${target.unavailable}</p>`}
          ${target.flags && target.flags.length === 0 && html`<p class="muted">No flag declared or set here.</p>`}
          ${
            target.flags &&
            target.flags.length > 0 &&
            html`<table class="flags" aria-label=${`flags of ${target.target}`}>
              <${Head} columns=${['flag', 'state', 'default', 'last change', '']} />
              <tbody>
                ${target.flags.map(
                  (flag) =>
                    html`<${FlagRow}
                      key=${flag.name}
                      target=${target.target}
                      flag=${flag}
                      onChanged=${reload}
                      onSignedOut=${onSignedOut}
                    />`,
                )}
              </tbody>
            </table>`
          }
        </article>`,
    )}
  </section>`;
}

function FlagRow({ target, flag, onChanged, onSignedOut }) {
  // While the form is open: the state it was opened on, which the change is guarded by.
  const [editing, setEditing] = useState();
  const { busy, problem, setProblem, send } = useGuardedChange({
    close: () => setEditing(undefined),
    onChanged,
    onSignedOut,
  });
  const submit = (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const kind = form.get('kind');
    const state = kind === 'percent' ? `percent ${form.get('percent')}` : kind;
    send(`/api/flags/${encodeURIComponent(target)}/${encodeURIComponent(flag.name)}`, {
      state,
      expected: editing.expected,
      reason: form.get('reason'),
    });
  };
  const open = () => {
    setProblem(undefined);
    setEditing(editing ? undefined : { expected: flag.state });
  };
  const shown = editing?.expected ?? flag.state;
  const current = /^percent (\d+)$/.exec(shown);
  const last = flag.updatedAt ? `${new Date(flag.updatedAt).toLocaleString()} by ${flag.updatedBy}` : 'never set';
  return html`<tr data-flag=${flag.name}>
      <td>
        <strong>${flag.name}</strong>
        ${flag.description && html`<div class="muted">${flag.description}</div>`}
      </td>
      <td class="state">${flag.state}</td>
      <td>${flag.default ?? html`<span class="muted">not declared</span>`}</td>
      <td>${last}</td>
      <td><button disabled=${busy} onClick=${open}>${editing ? 'Close' : 'Change'}</button></td>
    </tr>
    ${
      (editing || problem || flag.log.length > 0) &&
      html`<tr class="flag-more">
        <td colspan="5">
          ${
            editing &&
            html`<form class="confirm" role="dialog" aria-label=${`change ${flag.name}`} onSubmit=${submit}>
              <p><strong>Change ${flag.name} (${target}), now ${shown}, to</strong></p>
              ${
                flag.state !== shown &&
                html`<p class="problem" role="alert">
                  It is ${flag.state} now: someone changed it since you opened this.
                </p>`
              }
              <label><input type="radio" name="kind" value="on" defaultChecked=${shown === 'on'} /> on</label>
              <label><input type="radio" name="kind" value="off" defaultChecked=${shown === 'off'} /> off</label>
              <label>
                <input type="radio" name="kind" value="percent" defaultChecked=${Boolean(current)} /> on for
                <input
                  name="percent"
                  type="number"
                  min="0"
                  max="100"
                  step="1"
                  aria-label="Percent"
                  defaultValue=${current ? current[1] : '10'}
                />
                % of subjects
              </label>
              <label>Why (for the flag log) <input name="reason" maxlength="500" /></label>
              <button type="submit" disabled=${busy}>Confirm the change</button>
              <button type="button" onClick=${() => setEditing(undefined)}>Cancel</button>
            </form>`
          }
          ${problem && html`<p class="problem" role="alert">${problem}</p>`}
          ${
            flag.log.length > 0 &&
            html`<details>
              <summary>${flag.log.length} latest changes</summary>
              <ol class="log" aria-label=${`changes of ${flag.name}`}>
                ${flag.log.map((change) => html`<li>${changeText({ ...change, flag: flag.name })}</li>`)}
              </ol>
            </details>`
          }
        </td>
      </tr>`
    }`;
}

/** The page the address names: #/map, #/orders[/<id>], #/customers/<id>. */
function useRoute() {
  const decoded = (part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part; // a malformed escape: the server refuses it with its own words
    }
  };
  const read = () => location.hash.replace(/^#\/?/, '').split('/').map(decoded);
  const [route, setRoute] = useState(read());
  useEffect(() => {
    const changed = () => setRoute(read());
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

function Console() {
  const [signedIn, setSignedIn] = useState(Boolean(sessionStorage.getItem(TOKEN)));
  const [page, key, pageOfList] = useRoute();
  const signOut = () => {
    sessionStorage.removeItem(TOKEN);
    setSignedIn(false);
  };
  const current =
    page === 'orders' || page === 'customers'
      ? 'orders'
      : ['migration', 'messaging', 'flags'].includes(page)
        ? page
        : 'map';
  const tab = (name, href, label) =>
    html`<a href=${href} aria-current=${current === name ? 'page' : undefined}>${label}</a>`;
  return html`<header>
      <h1>ficus console</h1>
      ${
        signedIn &&
        html`<nav>
          ${tab('map', '#/map', 'Map')} ${tab('migration', '#/migration', 'Migration')}
          ${tab('orders', '#/orders', 'Orders')} ${tab('messaging', '#/messaging', 'Messaging')}
          ${tab('flags', '#/flags', 'Flags')}
        </nav>`
      }
      ${signedIn && html`<button class="who" onClick=${signOut}>Sign out</button>`}
    </header>
    <main>
      ${
        !signedIn
          ? html`<${SignIn} onSignedIn=${() => setSignedIn(true)} />`
          : current === 'migration'
            ? html`<${MigrationPage} onSignedOut=${signOut} />`
            : current === 'messaging'
              ? html`<${MessagingPage} onSignedOut=${signOut} />`
              : current === 'flags'
                ? html`<${FlagsPage} onSignedOut=${signOut} />`
                : current === 'orders'
                  ? html`<${OrdersPage}
                      id=${page === 'orders' && key ? key : undefined}
                      customer=${page === 'customers' && key ? key : undefined}
                      customerPage=${/^[1-9]\d{0,3}$/.test(pageOfList ?? '') ? Number(pageOfList) : 1}
                      onSignedOut=${signOut}
                    />`
                  : html`<${MapPage} onSignedOut=${signOut} />`
      }
    </main>`;
}

render(html`<${Console} />`, document.body);
