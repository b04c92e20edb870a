import type { TestServer } from './server.ts';

/** GET /metrics with the server's own METRICS_TOKEN (or none, or `authorization` as given). */
export function getMetrics(ts: TestServer, authorization: string | null = `Bearer ${ts.config.secrets.metricsToken}`): Promise<Response> {
  return fetch(`${ts.url}/metrics`, { headers: authorization === null ? {} : { authorization } });
}

/** The exposition text of a scrape that must succeed. */
export async function scrape(ts: TestServer): Promise<string> {
  const res = await getMetrics(ts);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
export function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]!.toLowerCase() === 'nan' ? NaN : m[3]) });
  }
  return out;
}

/** The sum of the samples named `name` whose labels include `labels` (0 when there are none). */
export function valueOf(text: string, name: string, labels: Record<string, string> = {}): number {
  return samples(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}
