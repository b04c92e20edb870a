import { randomDigits } from '../lib/ids.ts';

/** An approval number people can read out: two groups of four CSPRNG digits, e.g. 4821-0937. */
export function generateApprovalNo(): string {
  const d = randomDigits(8);
  return `${d.slice(0, 4)}-${d.slice(4)}`;
}

export const APPROVAL_NO_PATTERN = /^[0-9]{4}-[0-9]{4}$/;
