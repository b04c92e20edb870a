/**
 * The card manager's approvals API as a member site calls it: plain HTTP with the site's client
 * secret (HTTP Basic, RFC 6749 §2.3.1). Capture carries an Idempotency-Key so a retry never
 * charges twice.
 */
export interface ApprovalView {
  approval_no: string;
  status: string;
  amount: number;
  currency: string;
  captured_amount: number;
  description: string;
  content_ref: string | null;
  created_at: string;
}

export function createApprovalsClient(issuer: string, clientId: string, clientSecret: string) {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  const authorization = `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`;
  const base = `${issuer.replace(/\/$/, '')}/api/approvals`;

  async function call(path: string, init: RequestInit = {}): Promise<ApprovalView> {
    const res = await fetch(`${base}/${path}`, {
      ...init,
      headers: { authorization, accept: 'application/json', ...(init.headers as Record<string, string> | undefined) },
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as ApprovalView & { error?: string; error_description?: string };
    if (!res.ok) throw new Error(`approvals API ${res.status}: ${body.error_description ?? body.error ?? ''}`);
    return body;
  }

  return {
    /** The approval's current status and amounts. */
    show: (approvalNo: string) => call(encodeURIComponent(approvalNo)),
    /** Captures everything still held. */
    capture: (approvalNo: string) =>
      call(`${encodeURIComponent(approvalNo)}/capture`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `capture-${approvalNo}` },
        body: '{}',
      }),
  };
}

export type ApprovalsClient = ReturnType<typeof createApprovalsClient>;
