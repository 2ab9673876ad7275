// k6 scenario: latest air-quality values of all public lamps as GeoJSON (open data).
//   k6 run -e BASE=http://127.0.0.1:3000 -e KEY=sfk_… bench/k6/geojson-latest.js
// Open data allows OPEN_DATA_RATE_LIMIT_PER_MINUTE (default 600) requests per minute from
// one address; 32 virtual users pass that in about a second and then get 429. A request
// with an API key (any role) is not counted: create one for the test with
//   npx stadtfunk apikey create --role operator --name k6
// or, to measure anonymous clients, raise OPEN_DATA_RATE_LIMIT_PER_MINUTE on the service.
import http from 'k6/http';
import { check } from 'k6';

const BASE = __ENV.BASE || 'http://127.0.0.1:3000';
const HEADERS = __ENV.KEY ? { Authorization: `Bearer ${__ENV.KEY}` } : {};

export const options = {
  vus: Number(__ENV.VUS || 32),
  duration: __ENV.DURATION || '30s',
  thresholds: { http_req_duration: ['p(99)<100'], http_req_failed: ['rate<0.01'] },
};

export default function () {
  const res = http.get(`${BASE}/api/v1/open/datasets/air-quality/latest?format=geojson`, { headers: HEADERS });
  check(res, {
    'status 200': (r) => r.status === 200,
    'not rate-limited (send -e KEY=… or raise OPEN_DATA_RATE_LIMIT_PER_MINUTE)': (r) => r.status !== 429,
    'a FeatureCollection': (r) => r.status === 200 && r.json('type') === 'FeatureCollection',
  });
}
