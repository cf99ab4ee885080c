// AquaSense dashboard: reads the server's own API (same origin, nothing else)
// and draws it with dygraphs. Sections: sensors (paged), one sensor's monthly
// charts and readings (decimated per pixel by the server: points=width), the
// alerts with their delivery state, a file's invalid rows, and an upload form.
// State for tests: document.body.dataset.sensor / .months / .readings tell
// what is drawn; window.aquasense.charts holds the Dygraph objects; the
// performance marks aq-table, aq-months and aq-readings time the first render.
'use strict';
(() => {
  const PAGE = 25;
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  const state = {
    sensors: [], filtered: [], page: 0, current: null,
    open: new Map(), last: new Map(), charts: {}, readingsSeq: 0,
  };
  window.aquasense = state;

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    Object.assign(e, props || {});
    for (const c of children) e.append(c instanceof Node ? c : String(c));
    return e;
  }

  // Each cell gets its column's name (shown before it when a narrow screen
  // stacks the table's rows into cards).
  function labelled(tr, table) {
    const names = [...table.tHead.rows[0].cells].map((c) => c.textContent);
    [...tr.cells].forEach((td, i) => { td.dataset.label = names[i] || ''; });
    return tr;
  }

  function setStatus(text, bad) {
    const s = $('status');
    s.textContent = text;
    s.className = bad ? 'bad' : '';
  }

  // `early`: a fetch the page started already (index.html), used once.
  async function request(url, options, early) {
    const r = await (early || fetch(url, options));
    const text = await r.text();
    if (!r.ok) {
      let message = `${r.status} ${r.statusText}`;
      try { message = JSON.parse(text).message || message; } catch (e) { /* not JSON */ }
      const err = new Error(message);
      err.status = r.status;
      throw err;
    }
    return text;
  }
  const getJson = async (url, early) => JSON.parse(await request(url, undefined, early));
  function takeEarly(name) {
    const e = window.aqEarly && window.aqEarly[name];
    if (e) window.aqEarly[name] = null;
    return e;
  }

  // Dates as written (SPEC §2), drawn in UTC so nothing shifts by time zone.
  const WHEN = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,3}))?)?)?/;
  function parseWhen(s) {
    const m = WHEN.exec(s);
    if (!m) return null;
    return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0),
                             +((m[7] || '0') + '00').slice(0, 3)));
  }
  const isoDay = (d) => d.toISOString().slice(0, 10);
  const fmt = (x, digits = 2) => (x === null || x === undefined ? '–' : Number(x).toFixed(digits));

  // RFC 4180: quoted fields may hold commas, quotes ("") and line breaks.
  function parseCsv(text) {
    const rows = [];
    let row = [], f = '', q = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (q) {
        if (c === '"') {
          if (text[i + 1] === '"') { f += '"'; i++; } else q = false;
        } else f += c;
      } else if (c === '"') q = true;
      else if (c === ',') { row.push(f); f = ''; }
      else if (c === '\n') { row.push(f); rows.push(row); row = []; f = ''; }
      else if (c !== '\r') f += c;
    }
    if (f !== '' || row.length) { row.push(f); rows.push(row); }
    return rows;
  }

  // ---- sensors ----------------------------------------------------------
  function renderSensors() {
    const list = state.filtered;
    const pages = Math.max(1, Math.ceil(list.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    const slice = list.slice(state.page * PAGE, (state.page + 1) * PAGE);
    const body = $('sensors').tBodies[0];
    const rows = slice.map((s) => {
      const b = el('button', { type: 'button', className: 'link', textContent: s.sensor });
      b.addEventListener('click', () => selectSensor(s.sensor, true));
      const tr = el('tr', {}, el('th', { scope: 'row' }, b),
                    el('td', { className: 'last' }, lastText(s.sensor)),
                    el('td', { className: 'num' }, s.readings.toLocaleString('en')),
                    el('td', { className: 'num' }, state.open.get(s.sensor) || 0));
      tr.dataset.sensor = s.sensor;
      if (s.sensor === state.current) tr.className = 'current';
      return tr;
    });
    body.replaceChildren(...rows);
    $('page-info').textContent = list.length
      ? `${state.page * PAGE + 1}–${state.page * PAGE + slice.length} of ${list.length}` : 'no sensors';
    $('prev-page').disabled = state.page === 0;
    $('next-page').disabled = state.page >= pages - 1;
    // Last readings are filled in once the first charts are drawn (their
    // requests would otherwise queue ahead of the charts' own).
    if (state.chartsDrawn) fillLastReadings(slice.map((s) => s.sensor));
  }

  function lastText(id) {
    const r = state.last.get(id);
    if (!r) return '…';
    return `${r.date.replace('T', ' ')} · ${fmt(r.temperature)} °C`;
  }

  async function fillLastReadings(ids) {
    state.asked = state.asked || new Set();
    await Promise.all(ids.filter((id) => !state.last.has(id) && !state.asked.has(id)).map(async (id) => {
      state.asked.add(id);
      try {
        const rows = await getJson(`/v1/sensors/${enc(id)}/readings?tail=1&format=json`);
        if (rows.length) state.last.set(id, rows[0]);
      } catch (e) { return; } finally { state.asked.delete(id); }
      const tr = $('sensors').querySelector(`tr[data-sensor="${CSS.escape(id)}"] td.last`);
      if (tr) tr.textContent = lastText(id);
    }));
  }

  function applyFilter() {
    const f = $('sensor-filter').value.trim().toLowerCase();
    state.filtered = f ? state.sensors.filter((s) => s.sensor.toLowerCase().includes(f)) : state.sensors;
    state.page = 0;
    renderSensors();
  }

  async function loadSensors() {
    const j = await getJson('/v1/sensors', takeEarly('sensors'));
    state.sensors = j.sensors;
    const sel = $('sensor-select');
    const frag = document.createDocumentFragment();
    for (const s of state.sensors) frag.append(el('option', { value: s.sensor, textContent: s.sensor }));
    sel.replaceChildren(frag);
    applyFilter();
    if (!performance.getEntriesByName('aq-table').length) performance.mark('aq-table');
  }

  async function loadAlerts() {
    let j;
    try { j = await getJson('/v1/alerts?limit=1000', takeEarly('alerts')); } catch (e) {
      $('alerts').tBodies[0].replaceChildren(el('tr', {}, el('td', { colSpan: 5 }, `Alerts unavailable: ${e.message}`)));
      return;
    }
    state.open = new Map();
    for (const a of j.alerts) {
      const open = a.deliveries.some((d) => d.state === 'pending' || d.state === 'gave_up');
      const s = a.sensor || a.default_sensor;
      if (open) state.open.set(s, (state.open.get(s) || 0) + 1);
    }
    const rows = j.alerts.slice(0, 100).map((a) => {
      const deliveries = el('td', {});
      if (!a.deliveries.length) deliveries.append('no channel');
      for (const d of a.deliveries) {
        const tries = `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`;
        deliveries.append(el('div', {}, `${d.channel}: `,
          el('span', { className: `state-${d.state}` }, d.state.replace('_', ' ')),
          ` (${tries})`, d.last_error ? ` – ${d.last_error}` : ''));
      }
      const summary = el('td', {}, a.summary);
      if (a.kind === 'data_quality' && a.file_sha256) {
        const b = el('button', { type: 'button', className: 'link', textContent: 'Invalid rows' });
        b.setAttribute('aria-label', `Invalid rows of ${a.file}`);
        b.addEventListener('click', () => showInvalid(a.file_sha256, a.default_sensor, a.file));
        summary.append(' ', b);
      }
      return labelled(el('tr', {}, el('td', {}, a.time.slice(0, 16).replace('T', ' ')), el('td', {}, a.kind.replace('_', ' ')),
                el('td', {}, a.sensor || a.default_sensor), summary, deliveries), $('alerts'));
    });
    if (!rows.length) rows.push(el('tr', {}, el('td', { colSpan: 5 }, 'No alerts.')));
    $('alerts').tBodies[0].replaceChildren(...rows);
    for (const tr of $('sensors').tBodies[0].rows) tr.cells[3].textContent = state.open.get(tr.dataset.sensor) || 0;
  }

  // ---- one sensor ---------------------------------------------------------
  function chart(name, div, data, options) {
    if (!window.Dygraph) {
      div.textContent = 'Charts are not available in this build (libjs-dygraphs was missing).';
      return null;
    }
    const g = state.charts[name];
    if (g) {
      g.updateOptions({ file: data, ...options });
      return g;
    }
    state.charts[name] = new Dygraph(div, data, {
      labelsUTC: true, legend: 'always', connectSeparatedPoints: false, animatedZooms: false, xRangePad: 6,
      axisLabelFontSize: 12, labelsSeparateLines: false, axes: { x: { pixelsPerLabel: 60 } }, ...options,
    });
    return state.charts[name];
  }

  async function loadMonths(id) {
    const j = await getJson(`/v1/sensors/${enc(id)}/months`);
    if (id !== state.current) return;
    const by = new Map(j.months.map((m) => [m.year * 12 + m.month - 1, m]));
    const keys = [...by.keys()];
    const temp = [], sd = [];
    // Every calendar month from the first to the last: a month without data
    // is a null (a gap in the line), never a zero.
    for (let k = Math.min(...keys); keys.length && k <= Math.max(...keys); k++) {
      const t = new Date(Date.UTC(Math.floor(k / 12), k % 12, 1));
      const m = by.get(k);
      temp.push([t, m ? m.mean_temp : null, m ? m.max_temp : null]);
      sd.push([t, m ? m.max_sd : null, m ? m.max_temp_diff : null]);
    }
    chart('temp', $('chart-temp'), temp, {
      labels: ['Month', 'Mean temp', 'Max temp'], colors: ['#0b5cad', '#c2410c'],
      drawPoints: true, pointSize: 2.5, ylabel: '°C', dateWindow: null,
    });
    chart('sd', $('chart-sd'), sd, {
      labels: ['Month', 'Max sd', 'Δmax'], colors: ['#6d28d9', '#0f766e'],
      drawPoints: true, pointSize: 2.5, dateWindow: null,
    });
    document.body.dataset.months = String(j.months.length);
    if (!performance.getEntriesByName('aq-months').length) performance.mark('aq-months');
  }

  async function loadReadings(id, from, to) {
    const seq = ++state.readingsSeq;
    const div = $('chart-readings');
    const width = Math.max(200, Math.min(4000, Math.round(div.clientWidth || 800)));
    let url = `/v1/sensors/${enc(id)}/readings?points=${width}`;
    if (from) url += `&from=${from}&to=${to}`;
    const text = await request(url);
    if (seq !== state.readingsSeq || id !== state.current) return;  // a newer request won
    const data = [];
    let start = text.indexOf('\n') + 1;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const f = text.substring(start, end).split(',');
      start = end + 1;
      if (f.length < 4) continue;
      const t = parseWhen(f[1]);
      if (t) data.push([t, +f[2]]);
    }
    if (!data.length) {
      $('readings-info').textContent = 'No readings in this range.';
      return;
    }
    const options = { labels: ['Time', 'Temperature'], colors: ['#0b5cad'], ylabel: '°C', zoomCallback: onZoom };
    if (!from) options.dateWindow = null;
    chart('readings', div, data, options);
    $('readings-info').textContent = `${data.length.toLocaleString('en')} points drawn: the lowest and highest reading ` +
      `of each pixel column${from ? ` from ${from} to ${to}` : ', all dates'}.`;
    document.body.dataset.readings = String(data.length);
    if (!performance.getEntriesByName('aq-readings').length) performance.mark('aq-readings');
  }

  let zoomTimer = null;
  function onZoom(minX, maxX) {
    clearTimeout(zoomTimer);
    const g = state.charts.readings;
    zoomTimer = setTimeout(() => {
      const id = state.current;
      if (!g.isZoomed('x')) loadReadings(id).catch(showError);
      else loadReadings(id, isoDay(new Date(minX)), isoDay(new Date(maxX))).catch(showError);
    }, 120);
  }

  async function selectSensor(id, focus) {
    state.current = id;
    $('sensor-select').value = id;
    $('sensor-name').textContent = id;
    document.body.dataset.sensor = id;
    for (const tr of $('sensors').tBodies[0].rows) tr.className = tr.dataset.sensor === id ? 'current' : '';
    if (focus) $('sensor-section').focus();
    try {
      await Promise.all([loadMonths(id), loadReadings(id)]);
      setStatus(`Showing ${id}.`);
    } catch (e) { showError(e); }
  }

  // ---- invalid rows -------------------------------------------------------
  async function showInvalid(sha, sensor, file) {
    const t = $('invalid');
    $('invalid-file').textContent = `Loading the invalid rows of ${file}…`;
    let rows;
    try {
      rows = parseCsv(await request(`/v1/files/${enc(sha)}/invalid?sensor=${enc(sensor)}`)).slice(1);
    } catch (e) {
      $('invalid-file').textContent = `No invalid rows to show for ${file}: ${e.message}`;
      t.hidden = true;
      return;
    }
    t.tBodies[0].replaceChildren(...rows.slice(0, 1000).map((r) => labelled(el('tr', {},
      el('td', { className: 'num' }, r[1] || ''), el('td', {}, r[2] || ''), el('td', {}, r[3] || ''),
      el('td', { className: 'raw' }, r[4] || '')), t)));
    t.hidden = false;
    $('invalid-file').textContent = `${file} (sensor ${sensor}): ${rows.length > 1000 ? 'the first 1000 of ' : ''}` +
      `${rows.length} invalid row${rows.length === 1 ? '' : 's'}.`;
    $('invalid-section').focus();
  }

  // ---- upload -------------------------------------------------------------
  async function upload(ev) {
    ev.preventDefault();
    const out = $('upload-result');
    const sensor = $('up-sensor').value.trim();
    const file = $('up-file').files[0];
    const token = $('up-token').value.trim();
    if (!file) { out.textContent = 'Choose a CSV file first.'; out.className = 'bad'; return; }
    const name = (file.name.replace(/[^A-Za-z0-9._-]/g, '_') || 'upload').slice(0, 64);
    const headers = { 'Content-Type': 'text/csv' };
    if (token) headers.Authorization = `Bearer ${token}`;
    $('up-submit').disabled = true;
    out.className = '';
    out.textContent = 'Uploading…';
    try {
      const s = JSON.parse(await request(`/v1/ingest?sensor=${enc(sensor)}&name=${enc(name)}`,
        { method: 'POST', headers, body: file }));
      out.className = 'ok';
      out.textContent = s.already_ingested ? `${file.name} was already ingested: nothing new.`
        : `${file.name}: ${s.rows} rows, ${s.valid} valid, ${s.invalid} invalid, ${s.duplicates} duplicates, ` +
          `${s.months_updated} months updated.`;
      const f = s.per_file && s.per_file[0];
      if (f && f.invalid > 0 && f.sha256) {
        const b = el('button', { type: 'button', className: 'link', textContent: 'Show its invalid rows' });
        b.addEventListener('click', () => showInvalid(f.sha256, sensor, file.name));
        out.append(' ', b);
      }
      state.last.delete(sensor);
      await Promise.all([loadSensors(), loadAlerts()]);
      await selectSensor(sensor, false);
    } catch (e) {
      out.className = 'bad';
      out.textContent = `Upload refused: ${e.message}`;
    } finally {
      $('up-submit').disabled = false;
    }
  }

  function showError(e) { setStatus(`Could not load: ${e.message}`, true); }

  async function start() {
    $('sensor-filter').addEventListener('input', applyFilter);
    $('prev-page').addEventListener('click', () => { state.page--; renderSensors(); });
    $('next-page').addEventListener('click', () => { state.page++; renderSensors(); });
    $('sensor-select').addEventListener('change', (e) => selectSensor(e.target.value, false));
    $('upload-form').addEventListener('submit', upload);
    const alerts = loadAlerts();
    try {
      await loadSensors();
      if (!state.sensors.length) {
        setStatus('No data yet: upload a file below.');
      } else {
        setStatus(`${state.sensors.length.toLocaleString('en')} sensors.`);
        await selectSensor(state.sensors[0].sensor, false);
      }
    } catch (e) { showError(e); }
    await alerts;
    state.chartsDrawn = true;
    document.body.dataset.ready = '1';
    renderSensors();
  }
  start();
})();
