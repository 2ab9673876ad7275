// k6 scenario: live zone occupancy for traffic control (operator key).
//   k6 run -e BASE=http://127.0.0.1:3000 -e KEY=sfk_… bench/k6/live-zones.js
// Create the key with: npx stadtfunk apikey create --role operator --name k6
// (Live routes are not rate-limited; every request is audited, repeated ones as one row per hour.)
import http from 'k6/http';
import { check } from 'k6';

const BASE = __ENV.BASE || 'http://127.0.0.1:3000';

export const options = {
  vus: Number(__ENV.VUS || 32),
  duration: __ENV.DURATION || '30s',
  thresholds: { http_req_duration: ['p(99)<20'], http_req_failed: ['rate<0.01'] },
};

export default function () {
  const res = http.get(`${BASE}/api/v1/live/zones`, { headers: { Authorization: `Bearer ${__ENV.KEY}` } });
  check(res, { 'status 200': (r) => r.status === 200, 'zones listed': (r) => r.status === 200 && Array.isArray(r.json('zones')) });
}
