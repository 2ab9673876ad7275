// k6 scenario: one-month hourly series of public lamps (open data, no key).
//   k6 run -e BASE=http://127.0.0.1:3000 -e ASSETS=lamp-1,lamp-2 bench/k6/open-data-series.js
// Same scenario as `stadtfunk bench api` (autocannon), for ops teams who use k6.
import http from 'k6/http';
import { check } from 'k6';

const BASE = __ENV.BASE || 'http://127.0.0.1:3000';
const ASSETS = (__ENV.ASSETS || 'lamp-7').split(',');
const FROM = __ENV.FROM || '2026-10-01T00:00:00Z';
const TO = __ENV.TO || '2026-10-31T00:00:00Z';

export const options = {
  vus: Number(__ENV.VUS || 32),
  duration: __ENV.DURATION || '30s',
  thresholds: { http_req_duration: ['p(99)<50'], http_req_failed: ['rate<0.01'] },
};

export default function () {
  const asset = ASSETS[Math.floor(Math.random() * ASSETS.length)];
  const res = http.get(`${BASE}/api/v1/open/assets/${asset}/series?metric=pm2_5&bucket=hour&from=${FROM}&to=${TO}&limit=1000`);
  check(res, { 'status 200': (r) => r.status === 200 });
}
