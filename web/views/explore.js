// Open-data explorer (public): a map of the dataset's public assets, fitted to them and
// coloured with the dataset's own legend; a time-series chart of one asset's metric with
// time and value axes, units and values under the cursor; downloads with the exact API
// URL shown; licence and attribution from the city profile.
import { api, el, linked } from '../api.js';
import { timeChart } from '../chart.js';
import { datasetDescription, datasetTitle, errorText, fmtDateTime, fmtValue, kindName, metricName, t, unitLabel } from '../i18n.js';
import { createMap, fitToPoints } from '../map.js';
import { COUNTED, datasetStyle, summary } from './dataset-styles.js';

export async function render(main, signal) {
  const catalog = await api('/api/v1/open/datasets', { signal });
  const datasetSelect = el('select', { id: 'dataset' }, catalog.datasets.map((d) => el('option', { value: d.id }, datasetTitle(d.id, d.title))));
  const description = el('p', { class: 'muted', id: 'dataset-description' });
  const legend = el('section', { 'aria-label': t('legend'), 'data-testid': 'legend' });
  const mapBox = el('div', { class: 'map', role: 'region', 'aria-label': t('mapView') });
  const list = el('ul', { class: 'sensors' });
  const chartBox = el('section', { id: 'chart-section', 'aria-live': 'polite' });
  main.append(
    el('h1', {}, t('exploreTitle')),
    el('div', { class: 'row' }, el('div', {}, el('label', { for: 'dataset' }, t('dataset')), datasetSelect)),
    description,
    legend,
    mapBox,
    el('h2', {}, t('sensors')),
    list,
    chartBox,
    el('footer', { class: 'card' },
      el('p', {}, `${t('licence')}: `, el('a', { href: catalog.licence.url }, catalog.licence.name), ` (${catalog.licence.id})`),
      el('p', {}, `${t('attribution')}: ${catalog.attribution}`)),
  );
  const { map, L } = await createMap(mapBox, { signal });
  const layer = L.layerGroup().addTo(map);
  let chartScope = null;
  let shown = 0;

  const pickPrompt = () => {
    chartScope?.abort();
    chartBox.classList.remove('open');
    chartBox.replaceChildren(el('p', { class: 'muted' }, t('pick')));
  };

  async function show() {
    const id = datasetSelect.value;
    const turn = ++shown;
    const dataset = catalog.datasets.find((d) => d.id === id);
    const style = datasetStyle(id);
    // The previous dataset's chart and legend go at once, not when the new data has come.
    pickPrompt();
    description.textContent = datasetDescription(id, dataset.description);
    legend.replaceChildren(
      ...(style.title ? [el('p', { class: 'label' }, t(style.title))] : []),
      el('ul', { class: 'legend' }, style.legend().map(([colour, text]) => el('li', {}, el('span', { class: 'swatch', style: `background:${colour}`, 'aria-hidden': 'true' }), text))),
    );
    layer.clearLayers();
    list.replaceChildren();
    const geo = await api(`/api/v1/open/datasets/${id}/latest?format=geojson`, { signal });
    if (turn !== shown || signal.aborted) return;
    const points = [];
    for (const f of geo.features) {
      const [lon, lat] = f.geometry.coordinates;
      points.push([lat, lon]);
      const values = f.properties;
      const colour = style.colour(values, values.kind);
      const text = summary(dataset, values);
      const name = values.name ?? f.id;
      const marker = L.circleMarker([lat, lon], { radius: 9, color: '#1b1f23', weight: 1, fillColor: colour, fillOpacity: 0.9 }).addTo(layer)
        .bindTooltip(`${name} (${kindName(values.kind)})${text ? `: ${text}` : ''}`).on('click', () => chart(f.id, name, dataset));
      marker.getElement()?.setAttribute('data-asset', f.id);
      const badge = style.badge(values);
      list.append(el('li', { 'data-asset': f.id },
        el('button', { type: 'button', class: 'secondary', onclick: () => chart(f.id, name, dataset) }, name), ' ', text,
        badge ? el('span', { class: 'pill', style: `background:${badge.colour};color:#000;margin-left:.4rem` }, badge.text) : null));
    }
    if (geo.features.length === 0) list.append(el('li', { class: 'none' }, t('noSensors')));
    fitToPoints(map, L, points);
  }

  function chart(assetId, name, dataset) {
    chartScope?.abort();
    chartScope = linked(signal);
    const scope = chartScope.signal;
    // The metric the map's colours show comes first.
    const preferred = datasetStyle(dataset.id).defaultMetric;
    const metric = el('select', { id: 'metric' }, dataset.metrics.map((m) => el('option', { value: m.id, selected: m.id === preferred }, `${metricName(m.id)} (${unitLabel(m.unit) || '–'})`)));
    const to = new Date();
    const from = new Date(to.getTime() - 7 * 86_400_000);
    const fromInput = el('input', { id: 'from', type: 'date', value: from.toISOString().slice(0, 10) });
    const toInput = el('input', { id: 'to', type: 'date', value: to.toISOString().slice(0, 10) });
    const bucket = el('select', { id: 'bucket' }, ['hour', 'day', 'raw'].map((b) => el('option', { value: b }, t(b))));
    const plot = el('div', { class: 'chart', 'data-testid': 'chart' });
    const caption = el('figcaption', { class: 'muted' });
    const table = el('details', {});
    const links = el('div', {});
    const heading = el('h2', { tabindex: '-1' }, `${t('chart')}: ${name}`);
    let drawn = null;
    const draw = async () => {
      drawn?.abort();
      drawn = linked(scope);
      const q = new URLSearchParams({ metric: metric.value, bucket: bucket.value, limit: '10000', from: new Date(fromInput.value).toISOString(), to: new Date(new Date(toInput.value).getTime() + 86_400_000).toISOString() });
      const url = `/api/v1/open/assets/${encodeURIComponent(assetId)}/series?${q}`;
      const data = await api(url, { signal: drawn.signal });
      // Channels (lanes, directions, classes) become one line: counts add up, the rest is averaged.
      const byTime = new Map();
      for (const item of data.items) {
        const at = Date.parse(item.time) / 1000;
        const entry = byTime.get(at) ?? { sum: 0, n: 0 };
        entry.sum += item.value;
        entry.n += 1;
        byTime.set(at, entry);
      }
      const times = [...byTime.keys()].sort((a, b) => a - b);
      const values = times.map((at) => (COUNTED.has(data.metric) ? byTime.get(at).sum : byTime.get(at).sum / byTime.get(at).n));
      const label = metricName(data.metric);
      if (times.length === 0) {
        plot.replaceChildren(el('p', { class: 'none' }, t('noValues')));
        caption.textContent = '';
        table.replaceChildren();
      } else {
        await timeChart(plot, { times, series: [{ label, values, unit: data.unit }], signal: drawn.signal });
        const last = times.length - 1;
        caption.textContent = `${label} · ${t('points')}: ${times.length} · ${t('latestValue')}: ${fmtValue(values[last], data.unit)} (${fmtDateTime(times[last] * 1000)}) · ${data.licence}`;
        const shownRows = times.slice(-100).map((at, i) => [at, values[values.length - Math.min(100, times.length) + i]]);
        table.replaceChildren(el('summary', {}, t('asTable')), el('table', {},
          el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('time')), el('th', { scope: 'col', class: 'num' }, `${label} (${unitLabel(data.unit)})`))),
          el('tbody', {}, shownRows.map(([at, v]) => el('tr', {}, el('td', {}, fmtDateTime(at * 1000)), el('td', { class: 'num' }, fmtValue(v, data.unit)))))));
      }
      const abs = (u) => new URL(u, location.origin).toString();
      const csv = `${url}&format=csv`;
      const geojson = `/api/v1/open/datasets/${dataset.id}/latest?format=geojson`;
      const exportCsv = `/api/v1/open/datasets/${dataset.id}/export.csv?from=${q.get('from')}&to=${q.get('to')}`;
      links.replaceChildren(
        el('h3', {}, t('download')),
        el('div', { class: 'actions' },
          el('a', { href: csv, download: `${assetId}.csv`, class: 'download', 'data-format': 'csv' }, 'CSV'),
          el('a', { href: url, download: `${assetId}.json`, 'data-format': 'json' }, 'JSON'),
          el('a', { href: geojson, download: `${dataset.id}.geojson`, 'data-format': 'geojson' }, 'GeoJSON'),
          el('a', { href: exportCsv, download: `${dataset.id}-export.csv`, 'data-format': 'export' }, `${datasetTitle(dataset.id, dataset.title)} (CSV)`)),
        el('p', {}, `${t('apiUrl')}: `, el('code', {}, abs(csv))),
      );
    };
    for (const input of [metric, fromInput, toInput, bucket]) input.addEventListener('change', () => draw().catch(report));
    chartBox.replaceChildren(
      heading,
      el('div', { class: 'row' },
        el('div', {}, el('label', { for: 'metric' }, t('metric')), metric),
        el('div', {}, el('label', { for: 'from' }, t('from')), fromInput),
        el('div', {}, el('label', { for: 'to' }, t('to')), toInput),
        el('div', {}, el('label', { for: 'bucket' }, t('bucket')), bucket)),
      el('figure', {}, plot, caption),
      table,
      links,
    );
    // What was tapped comes into view: on a phone the chart is far below the map. There
    // the section is at least a screen tall (app.css), so its heading can come to the top
    // before the chart below it is drawn.
    chartBox.classList.add('open');
    heading.focus({ preventScroll: true });
    chartBox.scrollIntoView({ block: 'start' });
    const report = (error) => {
      if (error?.name !== 'AbortError') plot.replaceChildren(el('p', { class: 'error', role: 'alert' }, error?.name === 'ApiError' ? errorText(error) : error.message));
    };
    return draw().catch(report);
  }

  datasetSelect.addEventListener('change', () => show().catch(() => undefined));
  pickPrompt();
  await show();
}
