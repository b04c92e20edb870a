import type { Conn } from './knex.ts';
import { announceQueued } from './outbox-leases.ts';

/** An approval event still to be pushed to a member site (RFC 8935), as the sender claims it. */
export interface QueuedApprovalEvent {
  id: number;
  clientId: string;
  /** Fixed at queueing: every attempt pushes the same event, which the site may tell by it (RFC 8417 §2.2). */
  jti: string;
  /** The event's URI (approvals/approval-events.ts). */
  event: string;
  payload: Record<string, unknown>;
  approvalNo: string;
  /** When the change was made: the token's toe (RFC 8417 §2.2); its iat is the attempt's. */
  createdAt: Date;
  attempts: number;
}

export interface NewApprovalEvent {
  clientId: string;
  jti: string;
  event: string;
  payload: Record<string, unknown>;
  approvalNo: string;
}

/** Queues one event; call it in the transaction that makes the change it tells of. */
export async function insertApprovalEvent(conn: Conn, e: NewApprovalEvent): Promise<void> {
  await conn('approval_events').insert({ client_id: e.clientId, jti: e.jti, event: e.event, payload: e.payload, approval_no: e.approvalNo });
  await announceQueued(conn, 'approval_events');
}

/** The columns a sender claims an event with (db/outbox-leases.ts claimDue), and the event they make. */
export const APPROVAL_EVENT_COLUMNS = ['id', 'client_id', 'jti', 'event', 'payload', 'approval_no', 'created_at', 'attempts'] as const;

export function approvalEventFromRow(row: Record<string, unknown>): QueuedApprovalEvent {
  return {
    id: Number(row.id),
    clientId: row.client_id as string,
    jti: row.jti as string,
    event: row.event as string,
    payload: row.payload as Record<string, unknown>,
    approvalNo: row.approval_no as string,
    createdAt: new Date(row.created_at as string),
    attempts: row.attempts as number,
  };
}
