/**
 * A normalised field value, or the message to show beside the field with a stable code an API client
 * can branch on (`invalid` unless the check says more).
 */
export type Checked<T = string> = { ok: true; value: T } | { ok: false; error: string; code: string };

export const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
export const bad = (error: string, code = 'invalid'): Checked<never> => ({ ok: false, error, code });
