// Ops cockpit (admin): what ingest does now and over the last 24 hours (uplinks per
// second, batch write time, dead letters), per concentrator/gateway its uplinks, RSSI and
// SNR over time, dead letters by reason with the start of the raw message and the whole
// as a download, silent devices and low
// batteries (thresholds per device model), database size. "none" where a list is empty.
// The same figures are on /metrics for Prometheus (docs/grafana-dashboard.json).
import { api, el, key, linked } from '../api.js';
import { timeChart } from '../chart.js';
import { errorText, fmtDateTime, fmtNumber, fmtValue, metricName, t } from '../i18n.js';
import { requireKey } from '../signin.js';
import { renderLampsPanel } from '../panels/lamps.js';

const none = () => el('p', { class: 'none' }, t('none'));

// A dead letter's whole message is a separate download (a list shows only its start):
// fetched as the signed-in user (cookie) or with the key, which a plain link cannot send.
async function download(url, name) {
  const res = await fetch(url, { headers: key() ? { authorization: `Bearer ${key()}` } : {} });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const href = URL.createObjectURL(await res.blob());
  el('a', { href, download: name }).click();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
const reasonName = (reason) => {
  const key = `reason.${reason}`;
  return t(key) === key ? reason : t(key);
};

export async function render(main, signal) {
  main.append(el('h1', {}, t('opsTitle')));
  requireKey(main, () => {
    cockpit(main, signal);
    const stopLamps = renderLampsPanel(main);
    signal.addEventListener('abort', stopLamps, { once: true });
  });
}

function cockpit(main, signal) {
  const now = el('div', {});
  const history = el('section', {}, el('h2', {}, t('last24h')), el('p', { class: 'muted' }, t('loading')));
  const gateways = el('section', {}, el('h2', {}, t('concentrators')));
  const deadBox = el('section', {});
  // Outside the refreshed part, so an opened dead letter stays open.
  const details = el('div', { 'aria-live': 'polite' });
  const lists = el('div', {});
  main.append(now, history, gateways, deadBox, details, lists);
  let previous = null;

  const drawStatus = async () => {
    const s = await api('/api/v1/ops/status', { signal });
    const rate = previous ? (s.ingest.uplinks - previous.uplinks) / ((Date.now() - previous.at) / 1000) : null;
    previous = { uplinks: s.ingest.uplinks, at: Date.now() };
    const batchMs = s.ingest.batchCount ? (s.ingest.batchSecondsSum / s.ingest.batchCount) * 1000 : null;
    now.replaceChildren(el('div', { class: 'grid' },
      el('div', { class: 'card' }, el('h2', {}, t('ingest')),
        el('p', {}, `${t('uplinksPerSecond')}: ${fmtNumber(rate, 1)}`), el('p', {}, `${t('messages')}: ${fmtNumber(s.ingest.messages)}`),
        el('p', {}, `${t('readings')}: ${fmtNumber(s.ingest.readings)}`), el('p', {}, `${t('batch')}: ${fmtValue(batchMs, 'ms', 1)}`)),
      el('div', { class: 'card' }, el('h2', {}, t('database')),
        el('p', {}, `${t('size')}: ${fmtValue(s.database.bytes / 1e6, 'MB', 1)}`), el('p', {}, `${t('timescale')}: ${s.service.database.timescale ? t('yes') : t('no')}`),
        ...s.database.compression.map((c) => el('p', {}, `${c.table}: ${fmtNumber(c.compressedChunks)}/${fmtNumber(c.chunks)} ${t('compressed')}`)),
        el('p', {}, `MQTT: ${s.service.broker.ok ? 'ok' : s.service.broker.reason}`))));
    deadBox.replaceChildren(el('h2', {}, t('deadLetters')), s.deadLetters.length === 0 ? none() :
      el('table', { 'data-testid': 'dead-letters' }, el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('reason')), el('th', { scope: 'col', class: 'num' }, t('count')), el('td', {}))),
        el('tbody', {}, s.deadLetters.map((d) => el('tr', {}, el('th', { scope: 'row' }, reasonName(d.reason), ' ', el('code', {}, d.reason)), el('td', { class: 'num' }, fmtNumber(d.count)),
          el('td', {}, el('button', { type: 'button', class: 'secondary', onclick: () => showDeadLetters(d.reason) }, t('show'))))))));
    lists.replaceChildren(el('div', { class: 'grid' },
      el('div', { class: 'card' }, el('h2', {}, t('silent')), s.silentDevices.length === 0 ? none() : el('ul', { 'data-testid': 'silent' }, s.silentDevices.slice(0, 20).map((d) =>
        el('li', {}, el('code', {}, d.devEui), ` ${d.assetId ?? ''} · ${t('lastSeen')}: ${d.lastSeenAt ? fmtDateTime(d.lastSeenAt) : t('never')} · ${t('expectedEvery')} ${fmtValue(d.expectedIntervalS / 60, 'min', 1)}`)))),
      el('div', { class: 'card' }, el('h2', {}, t('lowBattery')), s.lowBatteries.length === 0 ? none() : el('ul', { 'data-testid': 'low-batteries' }, s.lowBatteries.slice(0, 20).map((b) => {
        const unit = b.metric === 'battery_voltage' ? 'V' : '%';
        return el('li', {}, el('code', {}, b.devEui), ` ${metricName(b.metric)}: ${fmtValue(b.value, unit)} (${t('threshold')} ${fmtValue(b.threshold, unit)}, ${b.modelId})`);
      })))));
    return s;
  };

  const showDeadLetters = async (reason) => {
    try {
      const r = await api(`/api/v1/dead-letters?reason=${encodeURIComponent(reason)}&limit=5`, { signal });
      details.replaceChildren(...r.items.map((i) => el('div', { class: 'card' },
        el('p', {}, el('strong', {}, reasonName(i.reason)), ` ${fmtDateTime(i.receivedAt)} `, el('code', {}, i.topic)), el('p', {}, i.detail ?? ''),
        el('p', {}, `${t('payload')}, ${fmtNumber(i.payload.length)} ${t('bytes')}`), el('pre', {}, (i.payload.previewText ?? i.payload.previewBase64) + (i.payload.truncated ? ' …' : '')),
        el('button', { type: 'button', class: 'secondary', onclick: () => download(i.payload.url, `dead-letter-${i.id}.bin`).catch((error) => details.prepend(el('p', { class: 'error', role: 'alert' }, errorText(error)))) }, t('downloadMessage')))));
    } catch (error) {
      if (error?.name !== 'AbortError') details.replaceChildren(el('p', { class: 'error', role: 'alert' }, errorText(error)));
    }
  };

  let charts = null;
  const drawHistory = async (concentrators) => {
    const h = await api('/api/v1/ops/history?hours=24', { signal });
    charts?.abort();
    charts = linked(signal);
    const times = h.ingest.map((p) => Date.parse(p.time) / 1000);
    const plot = (testid) => el('div', { class: 'chart', 'data-testid': testid });
    const rate = plot('chart-rate');
    const batch = plot('chart-batch');
    const dead = plot('chart-dead');
    history.replaceChildren(el('h2', {}, t('last24h')), el('div', { class: 'grid' },
      el('figure', { class: 'card' }, el('figcaption', { class: 'label' }, t('uplinksPerSecond')), rate),
      el('figure', { class: 'card' }, el('figcaption', { class: 'label' }, t('batch')), batch),
      el('figure', { class: 'card' }, el('figcaption', { class: 'label' }, t('deadLettersPer')), dead)));
    const opts = { height: 200, signal: charts.signal };
    await Promise.all([
      timeChart(rate, { ...opts, times, series: [{ label: t('uplinksPerSecond'), unit: '/s', fromZero: true, values: h.ingest.map((p) => p.uplinksPerSecond) }] }),
      timeChart(batch, { ...opts, times, series: [{ label: t('batchMean'), unit: 'ms', fromZero: true, values: h.ingest.map((p) => p.batchMsAvg) }, { label: t('batchMax'), unit: 'ms', values: h.ingest.map((p) => p.batchMsMax) }] }),
      timeChart(dead, { ...opts, times, series: [{ label: t('deadLetters'), unit: '{messages}', digits: 0, fromZero: true, colour: '#b42318', values: h.deadLetters.map((p) => p.count) }] }),
    ]);
    // Every concentrator the registry knows, and every gateway heard in the last day.
    const ids = [...new Set([...concentrators.map((c) => c.gatewayId), ...h.concentrators.map((c) => c.gatewayId)])].sort();
    const cards = ids.map((id) => {
      const c = concentrators.find((x) => x.gatewayId === id);
      const series = h.concentrators.find((x) => x.gatewayId === id);
      const uplinks = plot(`chart-gw-uplinks-${id}`);
      const signalPlot = plot(`chart-gw-signal-${id}`);
      const card = el('div', { class: 'card', 'data-gateway': id }, el('h3', {}, el('code', {}, id), ` ${c?.band ?? series?.band ?? ''} `,
        c ? el('span', { class: `pill ${c.online ? 'good' : 'bad'}` }, c.online ? t('online') : t('offline')) : null),
      c ? el('p', { class: 'muted' }, `${fmtNumber(c.rxReceived)} ${t('received')} · ${t('lastSeen')}: ${c.lastSeenAt ? fmtDateTime(c.lastSeenAt) : t('never')}`) : null,
      series ? uplinks : el('p', { class: 'none' }, t('noValues')), series ? signalPlot : null);
      return { card, series, uplinks, signalPlot };
    });
    gateways.replaceChildren(el('h2', {}, t('concentrators')), cards.length === 0 ? none() : el('div', { class: 'grid' }, cards.map((c) => c.card)));
    await Promise.all(cards.filter((c) => c.series).map((c) => {
      const gwTimes = c.series.points.map((p) => Date.parse(p.time) / 1000);
      return Promise.all([
        timeChart(c.uplinks, { ...opts, times: gwTimes, series: [{ label: t('uplinks'), unit: '{uplinks}', digits: 0, fromZero: true, values: c.series.points.map((p) => p.uplinks) }] }),
        timeChart(c.signalPlot, { ...opts, times: gwTimes, series: [{ label: t('rssi'), unit: 'dB[mW]', digits: 1, values: c.series.points.map((p) => p.rssiDbm) }, { label: t('snr'), unit: 'dB', digits: 1, colour: '#1a7f37', values: c.series.points.map((p) => p.snrDb) }] }),
      ]);
    }));
  };

  const stop = () => {
    clearInterval(statusTimer);
    clearInterval(historyTimer);
  };
  const fail = (box) => (error) => {
    if (signal.aborted || error?.name === 'AbortError') return;
    if (error?.status === 403) {
      // An operator comes here for the street lamps: the admin's cockpit is one quiet line, not an error.
      stop();
      for (const part of [history, gateways, deadBox, details, lists]) part.remove();
      now.replaceChildren(el('p', { class: 'muted', 'data-testid': 'cockpit-admin-only' }, t('opsAdminOnly')));
      return;
    }
    box.replaceChildren(el('p', { class: 'error', role: 'alert' }, errorText(error)));
  };
  const statusTimer = setInterval(() => drawStatus().catch(() => undefined), 5000);
  const historyTimer = setInterval(() => drawStatus().then((s) => drawHistory(s.concentrators)).catch(() => undefined), 60_000);
  drawStatus().then((s) => drawHistory(s.concentrators).catch(fail(history))).catch(fail(now));
  signal.addEventListener('abort', stop, { once: true });
}
