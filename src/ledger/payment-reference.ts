/**
 * Payment references: 'CC', twelve digits and two ISO 7064 MOD 97-10 check digits (the IBAN scheme),
 * made by the database (new_payment_reference()). A reference is matched exactly after removing
 * spaces and hyphens and upper-casing; one whose check digits fail is malformed, never matched.
 */

const SHAPE = /^CC[0-9]{14}$/;

/** The reference as stored, or undefined when it is not a well-formed reference with valid check digits. */
export function normalizePaymentReference(raw: string): string | undefined {
  const ref = raw.replace(/[\s-]/g, '').toUpperCase();
  if (!SHAPE.test(ref)) return undefined;
  return BigInt(ref.slice(2)) % 97n === 1n ? ref : undefined;
}

/** CC12 3456 7890 1234 for statements and pages. */
export function formatPaymentReference(ref: string): string {
  return ref.replace(/^(CC\d{2})(\d{4})(\d{4})(\d{4})$/, '$1 $2 $3 $4');
}
