// k6 scenario: latest air-quality values of all public lamps as GeoJSON (open data).
//   k6 run -e BASE=http://127.0.0.1:3000 bench/k6/geojson-latest.js
import http from 'k6/http';
import { check } from 'k6';

const BASE = __ENV.BASE || 'http://127.0.0.1:3000';

export const options = {
  vus: Number(__ENV.VUS || 32),
  duration: __ENV.DURATION || '30s',
  thresholds: { http_req_duration: ['p(99)<100'], http_req_failed: ['rate<0.01'] },
};

export default function () {
  const res = http.get(`${BASE}/api/v1/open/datasets/air-quality/latest?format=geojson`);
  check(res, { 'status 200': (r) => r.status === 200, 'a FeatureCollection': (r) => r.json('type') === 'FeatureCollection' });
}
