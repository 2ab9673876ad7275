// k6 scenario: hourly series of public lamps over the last week (open data).
//   k6 run -e BASE=http://127.0.0.1:3000 -e KEY=sfk_… -e ASSETS=lamp-00001,lamp-00006 bench/k6/open-data-series.js
// Same scenario as `stadtfunk bench api` (autocannon), for ops teams who use k6. ASSETS
// default to lamps of `stadtfunk simulate`; FROM/TO (ISO 8601) default to the last 7 days.
// Rate limit: as in geojson-latest.js, send an API key (-e KEY=…, not counted) or raise
// OPEN_DATA_RATE_LIMIT_PER_MINUTE on the service.
import http from 'k6/http';
import { check } from 'k6';

const BASE = __ENV.BASE || 'http://127.0.0.1:3000';
const HEADERS = __ENV.KEY ? { Authorization: `Bearer ${__ENV.KEY}` } : {};
const ASSETS = (__ENV.ASSETS || 'lamp-00001').split(',');
const TO = __ENV.TO || new Date().toISOString();
const FROM = __ENV.FROM || new Date(Date.parse(TO) - 7 * 86400000).toISOString();

export const options = {
  vus: Number(__ENV.VUS || 32),
  duration: __ENV.DURATION || '30s',
  thresholds: { http_req_duration: ['p(99)<50'], http_req_failed: ['rate<0.01'] },
};

export default function () {
  const asset = ASSETS[Math.floor(Math.random() * ASSETS.length)];
  const res = http.get(`${BASE}/api/v1/open/assets/${asset}/series?metric=pm2_5&bucket=hour&from=${FROM}&to=${TO}&limit=1000`, { headers: HEADERS });
  check(res, {
    'status 200': (r) => r.status === 200,
    'not rate-limited (send -e KEY=… or raise OPEN_DATA_RATE_LIMIT_PER_MINUTE)': (r) => r.status !== 429,
    'the asset is public (404: name public lamps in ASSETS)': (r) => r.status !== 404,
  });
}
