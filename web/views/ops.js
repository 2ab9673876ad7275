// Ops cockpit (admin): ingest counters and batch latency, dead letters by reason with the
// raw message on click, concentrators online/offline, silent devices, low batteries,
// database size. The same figures are on /metrics for Prometheus.
import { api, el } from '../api.js';
import { t } from '../i18n.js';
import { requireKey } from '../signin.js';
import { renderLampsPanel } from '../panels/lamps.js';

export async function render(main) {
  main.append(el('h1', {}, t('opsTitle')));
  let timer = null;
  let stopLamps = () => undefined;
  requireKey(main, () => {
    const box = el('div', {});
    // Outside the refreshed part, so an opened dead letter stays open.
    const details = el('div', { 'aria-live': 'polite' });
    main.append(box, details);
    let previous = null;
    const draw = async () => {
      const s = await api('/api/v1/ops/status');
      const rate = previous ? ((s.ingest.uplinks - previous.uplinks) / ((Date.now() - previous.at) / 1000)).toFixed(1) : '–';
      previous = { uplinks: s.ingest.uplinks, at: Date.now() };
      const batchMs = s.ingest.batchCount ? ((s.ingest.batchSecondsSum / s.ingest.batchCount) * 1000).toFixed(1) : '–';
      box.replaceChildren(
        el('div', { class: 'grid' },
          el('div', { class: 'card' }, el('h2', {}, t('ingest')), el('p', {}, `${t('uplinks')}/s: ${rate}`), el('p', {}, `${t('messages')}: ${s.ingest.messages}`), el('p', {}, `${t('readings')}: ${s.ingest.readings}`), el('p', {}, `${t('batch')}: ${batchMs} ms`)),
          el('div', { class: 'card' }, el('h2', {}, t('database')), el('p', {}, `${t('size')}: ${(s.database.bytes / 1e6).toFixed(1)} MB`), el('p', {}, `TimescaleDB: ${s.service.database.timescale ? 'ja/yes' : 'nein/no'}`),
            ...s.database.compression.map((c) => el('p', {}, `${c.table}: ${c.compressedChunks}/${c.chunks} ${t('compressed')}`)), el('p', {}, `MQTT: ${s.service.broker.ok ? 'ok' : s.service.broker.reason}`)),
          el('div', { class: 'card' }, el('h2', {}, t('concentrators')), el('ul', {}, s.concentrators.map((c) => el('li', {}, `${c.gatewayId} ${c.band ?? ''} `, el('span', { class: `pill ${c.online ? 'good' : 'bad'}` }, c.online ? t('online') : t('offline')), ` ${c.rxReceived} rx, ${t('lastSeen')}: ${c.lastSeenAt ?? t('never')}`))))),
        el('h2', {}, t('deadLetters')),
        el('table', { 'data-testid': 'dead-letters' }, el('thead', {}, el('tr', {}, el('th', {}, t('reason')), el('th', {}, t('count')), el('th', {}, ''))),
          el('tbody', {}, s.deadLetters.map((d) => el('tr', {}, el('th', { scope: 'row' }, d.reason), el('td', {}, String(d.count)),
            el('td', {}, el('button', { type: 'button', class: 'secondary', onclick: async () => {
              const r = await api(`/api/v1/dead-letters?reason=${encodeURIComponent(d.reason)}&limit=5`);
              details.replaceChildren(...r.items.map((i) => el('div', { class: 'card' }, el('p', {}, el('strong', {}, i.reason), ` ${i.receivedAt} ${i.topic}`), el('p', {}, i.detail ?? ''), el('p', {}, t('payload')), el('pre', {}, i.payloadBase64))));
            } }, t('show'))))))),
        el('div', { class: 'grid' },
          el('div', { class: 'card' }, el('h2', {}, t('silent')), el('ul', {}, s.silentDevices.slice(0, 20).map((d) => el('li', {}, `${d.devEui} ${d.assetId ?? ''} ${t('lastSeen')}: ${d.lastSeenAt ?? t('never')}`)))),
          el('div', { class: 'card' }, el('h2', {}, t('lowBattery')), el('ul', {}, s.lowBatteries.slice(0, 20).map((b) => el('li', {}, `${b.devEui} ${b.metric} ${b.value}`))))),
      );
    };
    draw().catch((e) => box.replaceChildren(el('p', { class: 'error' }, e.message)));
    timer = setInterval(() => draw().catch(() => undefined), 5000);
    stopLamps = renderLampsPanel(main);
  });
  return () => {
    clearInterval(timer);
    stopLamps();
  };
}
