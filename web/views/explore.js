// Open-data explorer (public): map of public sensors coloured by the UBA index bands,
// a chart of one sensor's series, downloads with the exact API URL shown, licence.
import { api, el } from '../api.js';
import { t } from '../i18n.js';
import { createMap } from '../map.js';

// PM2.5 bands of the German Environment Agency's air quality index (µg/m³, hourly).
const UBA = [[10, 'sehr gut / very good', '#50ccaa'], [20, 'gut / good', '#50f0e6'], [25, 'mäßig / moderate', '#f0e641'], [50, 'schlecht / poor', '#ff5050'], [Infinity, 'sehr schlecht / very poor', '#960032']];
const band = (pm) => UBA.find(([max]) => pm <= max);

export async function render(main) {
  const catalog = await api('/api/v1/open/datasets');
  const datasetSelect = el('select', { id: 'dataset' }, catalog.datasets.map((d) => el('option', { value: d.id }, d.title)));
  const mapBox = el('div', { class: 'map', role: 'region', 'aria-label': t('nav.explore') });
  const list = el('ul', { class: 'sensors' });
  const chartBox = el('section', { 'aria-live': 'polite' }, el('p', { class: 'muted' }, t('pick')));
  main.append(
    el('h1', {}, t('exploreTitle')),
    el('div', { class: 'row' }, el('div', {}, el('label', { for: 'dataset' }, t('dataset')), datasetSelect)),
    el('p', { class: 'muted' }, t('uba')),
    mapBox,
    el('h2', {}, t('listView')),
    list,
    chartBox,
    el('footer', { class: 'card' },
      el('p', {}, `${t('licence')}: `, el('a', { href: catalog.licence.url }, catalog.licence.name), ` (${catalog.licence.id})`),
      el('p', {}, `${t('attribution')}: ${catalog.attribution}`)),
  );
  const { map, L } = await createMap(mapBox);
  const layer = L.layerGroup().addTo(map);

  async function show() {
    const id = datasetSelect.value;
    const dataset = catalog.datasets.find((d) => d.id === id);
    const geo = await api(`/api/v1/open/datasets/${id}/latest?format=geojson`);
    layer.clearLayers();
    list.replaceChildren();
    for (const f of geo.features) {
      const [lon, lat] = f.geometry.coordinates;
      const pm = f.properties.pm2_5;
      const colour = typeof pm === 'number' ? band(pm)[2] : '#0b5cad';
      const summary = dataset.metrics.filter((m) => typeof f.properties[m.id] === 'number').slice(0, 4).map((m) => `${m.id} ${f.properties[m.id]} ${m.unit}`).join(', ');
      L.circleMarker([lat, lon], { radius: 9, color: '#1b1f23', weight: 1, fillColor: colour, fillOpacity: 0.9 }).addTo(layer).bindTooltip(`${f.id}: ${summary}`).on('click', () => chart(f.id, dataset));
      list.append(el('li', {}, el('button', { class: 'secondary', onclick: () => chart(f.id, dataset) }, f.id), ' ', summary, typeof pm === 'number' ? el('span', { class: 'pill', style: `background:${colour};color:#000` }, band(pm)[1]) : null));
    }
  }

  function chart(assetId, dataset) {
    const metric = el('select', { id: 'metric' }, dataset.metrics.map((m) => el('option', { value: m.id }, `${m.id} (${m.unit})`)));
    const to = new Date();
    const from = new Date(to.getTime() - 7 * 86_400_000);
    const fromInput = el('input', { id: 'from', type: 'date', value: from.toISOString().slice(0, 10) });
    const toInput = el('input', { id: 'to', type: 'date', value: to.toISOString().slice(0, 10) });
    const bucket = el('select', { id: 'bucket' }, ['hour', 'day', 'raw'].map((b) => el('option', { value: b }, t(b))));
    const figure = el('figure', {});
    const links = el('div', {});
    const draw = async () => {
      const q = new URLSearchParams({ metric: metric.value, bucket: bucket.value, from: new Date(fromInput.value).toISOString(), to: new Date(new Date(toInput.value).getTime() + 86_400_000).toISOString() });
      const url = `/api/v1/open/assets/${encodeURIComponent(assetId)}/series?${q}`;
      const data = await api(url);
      figure.replaceChildren(svgChart(data.items, `${assetId} · ${data.metric} (${data.unit})`), el('figcaption', { class: 'muted' }, `${data.items.length} · ${data.licence}`));
      const abs = (u) => new URL(u, location.origin).toString();
      const csv = `${url}&format=csv`;
      const geojson = `/api/v1/open/datasets/${dataset.id}/latest?format=geojson`;
      const exportCsv = `/api/v1/open/datasets/${dataset.id}/export.csv?from=${q.get('from')}&to=${q.get('to')}`;
      links.replaceChildren(
        el('h3', {}, t('download')),
        el('div', { class: 'row' },
          el('a', { href: csv, download: `${assetId}.csv`, class: 'download', 'data-format': 'csv' }, 'CSV'),
          el('a', { href: url, download: `${assetId}.json`, 'data-format': 'json' }, 'JSON'),
          el('a', { href: geojson, download: `${dataset.id}.geojson`, 'data-format': 'geojson' }, 'GeoJSON'),
          el('a', { href: exportCsv, download: `${dataset.id}-export.csv`, 'data-format': 'export' }, `${dataset.title} CSV`)),
        el('p', {}, `${t('apiUrl')}: `, el('code', {}, abs(csv))),
      );
    };
    for (const input of [metric, fromInput, toInput, bucket]) input.addEventListener('change', draw);
    chartBox.replaceChildren(
      el('h2', {}, `${t('chart')}: ${assetId}`),
      el('div', { class: 'row' },
        el('div', {}, el('label', { for: 'metric' }, t('metric')), metric),
        el('div', {}, el('label', { for: 'from' }, t('from')), fromInput),
        el('div', {}, el('label', { for: 'to' }, t('to')), toInput),
        el('div', {}, el('label', { for: 'bucket' }, t('bucket')), bucket)),
      figure,
      links,
    );
    return draw();
  }

  datasetSelect.addEventListener('change', show);
  await show();
  return () => map.remove();
}

/** A small line chart in SVG (no chart library: a few hundred bytes instead of a few hundred KB). */
function svgChart(items, title) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('viewBox', '0 0 600 220');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${title}: ${items.length}`);
  if (items.length === 0) return svg;
  const xs = items.map((i) => Date.parse(i.time));
  const ys = items.map((i) => i.value);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const px = (x) => 40 + ((x - x0) / Math.max(1, x1 - x0)) * 550;
  const py = (y) => 200 - ((y - y0) / Math.max(1e-9, y1 - y0)) * 180;
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', items.map((it, n) => `${n ? 'L' : 'M'}${px(xs[n]).toFixed(1)},${py(it.value).toFixed(1)}`).join(''));
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', '#0b5cad');
  path.setAttribute('stroke-width', '2');
  for (const [y, label] of [[y0, y0], [y1, y1]]) {
    const text = document.createElementNS(ns, 'text');
    text.setAttribute('x', '2');
    text.setAttribute('y', String(py(y) + 4));
    text.setAttribute('font-size', '11');
    text.textContent = String(Math.round(label * 10) / 10);
    svg.append(text);
  }
  svg.append(path);
  return svg;
}
