/** A normalised field value, or the message to show beside the field. */
export type Checked<T = string> = { ok: true; value: T } | { ok: false; error: string };

export const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
export const bad = (error: string): Checked<never> => ({ ok: false, error });
