// The Turnpike dashboard: polls the admin listener's snapshot JSON every
// second and updates the numbers, charts (dashboard-charts.js) and tables.
// With an admin token the calls send `Authorization: Bearer <token>`; the
// token is asked for in a form and kept in sessionStorage (this tab only).
'use strict';
(function dashboard() {
  const SNAPSHOT = '/ui/api/snapshot';
  const SESSION = '/ui/api/session';
  const TOKEN_KEY = 'turnpike-admin-token';
  const INTERVAL_MS = 1000;
  const { TimeChart } = window.TurnpikeCharts;
  const $ = (id) => document.getElementById(id);

  const charts = {
    rps: new TimeChart($('chart-rps'), { fixed: ['requests/s', '5xx/s'] }),
    latency: new TimeChart($('chart-latency'), { fixed: ['p50', 'p99'], unit: ' ms' }),
    routeErrors: new TimeChart($('chart-route-errors'), { unit: ' %' }),
    upstreamErrors: new TimeChart($('chart-upstream-errors'), {}),
    rateLimit: new TimeChart($('chart-ratelimit'), { fixed: ['allowed/s', 'limited/s'] }),
    cache: new TimeChart($('chart-cache'), { fixed: ['hit ratio'], unit: ' %', min: 0, max: 100 }),
    memory: new TimeChart($('chart-memory'), { unit: ' MB' }),
  };
  let timer = null;

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function headers() {
    const t = token();
    return t === null ? {} : { authorization: `Bearer ${t}` };
  }

  function askForToken(message) {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    $('token-error').textContent = message;
    $('token-form').hidden = false;
    $('main').classList.add('locked');
    $('status').textContent = 'token needed';
    $('token-input').focus();
  }

  $('token-form').addEventListener('submit', function onToken(event) {
    event.preventDefault();
    const value = $('token-input').value.trim();
    if (value === '') return;
    sessionStorage.setItem(TOKEN_KEY, value);
    $('token-input').value = '';
    $('token-form').hidden = true;
    $('main').classList.remove('locked');
    poll();
  });

  async function start() {
    // The session endpoint is open: ask whether a token is needed before the
    // first data call, rather than learning it from a 401.
    try {
      const res = await fetch(SESSION, { cache: 'no-store' });
      const session = await res.json();
      if (session.tokenRequired && token() === null) {
        askForToken('');
        return;
      }
    } catch (err) {
      $('status').textContent = `cannot reach the admin listener (${err.message}); retrying`;
      timer = setTimeout(start, INTERVAL_MS);
      return;
    }
    poll();
  }

  async function poll() {
    timer = null;
    let snap;
    try {
      const res = await fetch(SNAPSHOT, { headers: headers(), cache: 'no-store' });
      if (res.status === 401) {
        const hadToken = token() !== null;
        sessionStorage.removeItem(TOKEN_KEY);
        askForToken(hadToken ? 'the token was refused' : '');
        return;
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      snap = await res.json();
    } catch (err) {
      $('status').textContent = `update failed (${err.message}); retrying`;
      timer = setTimeout(poll, INTERVAL_MS);
      return;
    }
    render(snap);
    timer = setTimeout(poll, INTERVAL_MS);
  }

  function fixed(v, digits, unit) {
    return v === null || v === undefined ? '–' : `${v.toFixed(digits)}${unit}`;
  }

  function pct(v) {
    return v === null || v === undefined ? null : v * 100;
  }

  function mb(bytes) {
    return bytes === null || bytes === undefined ? null : bytes / (1024 * 1024);
  }

  function render(s) {
    const t = s.time / 1000;
    const r = s.requests;
    $('rps').textContent = fixed(r.perSecond, 1, ' req/s');
    $('p50').textContent = fixed(r.p50Ms, 2, ' ms');
    $('p99').textContent = fixed(r.p99Ms, 2, ' ms');
    $('error-rate').textContent = r.errorRate === null ? '–' : `${(r.errorRate * 100).toFixed(2)} %`;
    $('cache-ratio').textContent = s.cache.hitRatioTotal === null ? '–' : `${(s.cache.hitRatioTotal * 100).toFixed(1)} %`;
    $('worker-count').textContent = String(s.workers.filter((w) => w.state === 'listening').length);
    $('total').textContent = String(r.total);
    const source = s.config.source === undefined ? 'file' : String(s.config.source);
    $('config-revision').textContent = s.config.revision === undefined || s.config.revision === null
      ? source : `revision ${s.config.revision} (${source})`;
    $('config-generation').textContent = String(s.config.generation);
    $('status').textContent = `updated ${new Date(s.time).toLocaleTimeString()}`;

    charts.rps.push(t, { 'requests/s': r.perSecond, '5xx/s': r.errorsPerSecond });
    charts.latency.push(t, { p50: r.p50Ms, p99: r.p99Ms });
    charts.routeErrors.push(t, Object.fromEntries(s.routes.map((x) => [x.route, pct(x.errorRate)])));
    charts.upstreamErrors.push(t, Object.fromEntries(s.upstreams.map((u) => [u.name, u.errorsPerSecond])));
    let allowed = s.rateLimits.length === 0 ? null : 0;
    let limited = s.rateLimits.length === 0 ? null : 0;
    for (const l of s.rateLimits) {
      allowed = l.allowedPerSecond === null ? null : allowed + l.allowedPerSecond;
      limited = l.limitedPerSecond === null ? null : limited + l.limitedPerSecond;
    }
    charts.rateLimit.push(t, { 'allowed/s': allowed, 'limited/s': limited });
    charts.cache.push(t, { 'hit ratio': pct(s.cache.hitRatio) });
    charts.memory.push(t, Object.fromEntries(s.workers.map((w) => [`worker ${w.id} (pid ${w.pid})`, mb(w.residentBytes)])));

    renderUpstreams(s.upstreams);
    rows('routes', s.routes, (x) => [x.route, fixed(x.perSecond, 1, ''), x.errorRate === null ? '–' : `${(x.errorRate * 100).toFixed(2)} %`,
      fixed(x.p50Ms, 2, ' ms'), fixed(x.p99Ms, 2, ' ms'), String(x.total)]);
    rows('ratelimits', s.rateLimits, (x) => [x.limit, fixed(x.allowedPerSecond, 1, ''), fixed(x.limitedPerSecond, 1, ''), String(x.allowedTotal), String(x.limitedTotal)]);
    rows('workers', s.workers, (w) => [String(w.id), String(w.pid), String(w.generation), w.state,
      fixed(mb(w.residentBytes), 1, ' MB'), fixed(mb(w.heapUsedBytes), 1, ' MB')]);
  }

  function cell(tr, content) {
    const td = document.createElement('td');
    if (typeof content === 'string') td.textContent = content;
    else td.append(content);
    tr.append(td);
  }

  function rows(id, items, columns) {
    const body = $(id).tBodies[0];
    body.replaceChildren(...items.map((item) => {
      const tr = document.createElement('tr');
      for (const c of columns(item)) cell(tr, c);
      return tr;
    }));
  }

  function badge(text, kind) {
    const span = document.createElement('span');
    span.className = `badge ${kind}`;
    span.textContent = text;
    return span;
  }

  function renderUpstreams(upstreams) {
    rows('upstreams', upstreams, (u) => {
      const circuit = u.circuit === null ? '–' : badge(u.circuit, u.circuit === 'closed' ? 'good' : u.circuit === 'open' ? 'bad' : 'warn');
      const targets = document.createElement('div');
      for (const t of u.targets) {
        const line = document.createElement('span');
        line.className = `target ${t.available ? 'good' : 'bad'}`;
        line.textContent = `${t.available ? '●' : '○'} ${t.url} (${t.availableIn}/${t.workers} workers, ${t.inflight} in flight)`;
        targets.append(line);
      }
      if (u.panic) targets.append(badge('panic', 'bad'));
      return [u.name, circuit, fixed(u.errorsPerSecond, 2, ''), fixed(u.rejectedPerSecond, 2, ''), targets];
    });
  }

  window.addEventListener('resize', function onResize() {
    for (const c of Object.values(charts)) c.resize();
  });
  start();
})();
