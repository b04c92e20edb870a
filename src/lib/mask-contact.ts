/**
 * Contacts as audit entries and notifications show them: enough for the holder and the operator to recognise an
 * address (first letters and the domain, the last four digits), not enough to write to it.
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  const local = email.slice(0, at);
  return `${local.slice(0, local.length > 3 ? 2 : 1)}***${email.slice(at)}`;
}

export function maskMobile(mobile: string): string {
  if (mobile.length < 8) return '***';
  return `${mobile.slice(0, 3)}${'*'.repeat(mobile.length - 7)}${mobile.slice(-4)}`;
}

/** maskEmail / maskMobile for a contact that may be absent. */
export function maskContact(kind: 'email' | 'mobile', value: string | null | undefined): string | null {
  if (!value) return null;
  return kind === 'email' ? maskEmail(value) : maskMobile(value);
}
