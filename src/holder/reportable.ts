const DAY_MS = 86_400_000;

/** What a page knows of a payment to decide whether to offer its report. */
export interface ReportableLine {
  created_at: string;
  captured_amount: number;
  refunded_amount: number;
  held_amount: number;
  hold_expires_at: string | null;
  report_status: string | null;
}

/**
 * Whether a page offers to report a payment: the rules openDispute() applies (approvals/open-dispute.ts), so that a
 * Report link never leads to a refusal: not reported yet, within the reporting window, something still charged, or
 * held and not past the hold's expiry.
 */
export function reportable(a: ReportableLine, disputeDays: number, now: number): boolean {
  if (a.report_status !== null || now - Date.parse(a.created_at) > disputeDays * DAY_MS) return false;
  return a.captured_amount > a.refunded_amount || (a.held_amount > 0 && a.hold_expires_at !== null && Date.parse(a.hold_expires_at) > now);
}
