import { Counter, Histogram, type Registry } from 'prom-client';

/** Records one answered HTTP request (http/request-metrics.ts). */
export interface RequestRecorder {
  record(method: string, route: string, status: number, seconds: number): void;
}

/** A route and method's children: the duration's, and the count's for each status. */
interface Children {
  duration: Histogram.Internal<'method' | 'route'>;
  byStatus: Map<number, Counter.Internal>;
}

/** From 5 ms (a discovery document) to 10 s (a request that waited for a connection and timed out). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * cybercard_http_requests_total{method,route,status} and cybercard_http_request_duration_seconds{method,route}.
 * Each label combination's children are made once and kept (prom-client's labels() builds an object and a
 * bound function at each call): a request then costs two map lookups and the two updates. Routes are
 * templates or names (a few dozen), methods those Node's parser accepts, so the maps stay small.
 */
export function httpRequests(registry: Registry): RequestRecorder {
  const requests = new Counter({
    name: 'cybercard_http_requests_total',
    help: 'HTTP requests answered, by method, route (a route template or oidc-provider route name, else unmatched) and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'cybercard_http_request_duration_seconds',
    help: 'Time to answer an HTTP request (until the response is handed to Node, its body streamed after), by method and route.',
    labelNames: ['method', 'route'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const byRoute = new Map<string, Map<string, Children>>();
  return {
    record(method, route, status, seconds) {
      let byMethod = byRoute.get(route);
      if (!byMethod) byRoute.set(route, (byMethod = new Map()));
      let children = byMethod.get(method);
      if (!children) byMethod.set(method, (children = { duration: durations.labels(method, route), byStatus: new Map() }));
      let count = children.byStatus.get(status);
      if (!count) children.byStatus.set(status, (count = requests.labels(method, route, String(status))));
      count.inc();
      children.duration.observe(seconds);
    },
  };
}
