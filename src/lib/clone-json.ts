/**
 * A deep copy of JSON-shaped data (plain objects, arrays, primitives), several times faster than
 * structuredClone for the small payloads a request copies again and again. Anything else inside (a Date,
 * a Map) is copied by structuredClone, so the result never shares mutable state with the input.
 */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = cloneJson((value as Record<string, unknown>)[key]);
  return out as T;
}
