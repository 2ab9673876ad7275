/**
 * /metrics beyond ingest's own counters (issue 25): prom-client's standard process and
 * Node.js metrics (CPU, memory, heap, event-loop lag, GC, handles) and the duration of
 * every HTTP request by route. The route is the registered pattern
 * (`/api/v1/devices/:devEui`), never the raw URL, so the label set stays small; requests
 * that match no route count as `unmatched`.
 */
import { collectDefaultMetrics, Histogram, register } from 'prom-client';
import type { FastifyInstance } from 'fastify';

export const HTTP_DURATION_METRIC = 'stadtfunk_api_request_duration_seconds';

/** The default metrics are process-wide: started once, however many apps a process builds (tests, benchmarks). */
function startDefaultMetrics(): void {
  if (register.getSingleMetric('process_cpu_user_seconds_total')) return;
  collectDefaultMetrics();
}

function requestDuration(): Histogram<'method' | 'route' | 'status_code'> {
  return (register.getSingleMetric(HTTP_DURATION_METRIC) as Histogram<'method' | 'route' | 'status_code'> | undefined) ?? new Histogram({
    name: HTTP_DURATION_METRIC,
    help: 'Time from receiving an HTTP request to the end of its response, by method, route pattern and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
}

/** Adds the hooks; call before the route plugins are registered so every route is measured. */
export function installHttpMetrics(app: FastifyInstance): void {
  startDefaultMetrics();
  const histogram = requestDuration();
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    histogram.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}
