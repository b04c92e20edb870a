/**
 * PostgreSQL's refusal of a NUL character, which its text (22021) and jsonb (22P05) cannot hold: a value the
 * client sent, so the client's error wherever it surfaces.
 */
export function isNulRefused(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '22021' || code === '22P05';
}
