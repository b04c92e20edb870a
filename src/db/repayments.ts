import type { Conn } from './knex.ts';
import { dateString } from './rows.ts';

export type RepaymentSource = 'operator' | 'bank_import';

export interface Repayment {
  id: number;
  accountId: string;
  amount: number;
  currency: string;
  source: RepaymentSource;
  transactionId: string | null;
  paymentReference: string | null;
  receivedOn: string | null;
  memo: string;
  entryId: number;
  actor: string;
  createdAt: Date;
}

type Row = Record<string, unknown>;

function toRepayment(r: Row): Repayment {
  return {
    id: Number(r.id),
    accountId: r.account_id as string,
    amount: Number(r.amount),
    currency: r.currency as string,
    source: r.source as RepaymentSource,
    transactionId: (r.transaction_id as string | null) ?? null,
    paymentReference: (r.payment_reference as string | null) ?? null,
    receivedOn: r.received_on ? dateString(r.received_on) : null,
    memo: r.memo as string,
    entryId: Number(r.entry_id),
    actor: r.actor as string,
    createdAt: new Date(r.created_at as string),
  };
}

export async function insertRepayment(conn: Conn, r: Omit<Repayment, 'id' | 'createdAt'>): Promise<Repayment> {
  const [row] = (await conn('repayments')
    .insert({
      account_id: r.accountId,
      amount: r.amount,
      currency: r.currency,
      source: r.source,
      transaction_id: r.transactionId,
      payment_reference: r.paymentReference,
      received_on: r.receivedOn,
      memo: r.memo,
      entry_id: r.entryId,
      actor: r.actor,
    })
    .returning('*')) as Row[];
  return toRepayment(row!);
}

export async function findRepaymentByTransactionId(conn: Conn, transactionId: string): Promise<Repayment | undefined> {
  const r = (await conn('repayments').where({ transaction_id: transactionId }).first()) as Row | undefined;
  return r ? toRepayment(r) : undefined;
}

/** The account carrying this payment reference (exact match on the normalised reference). */
export async function findAccountIdByPaymentReference(conn: Conn, reference: string): Promise<string | undefined> {
  const r = (await conn('accounts').select('id').where({ payment_reference: reference }).first()) as { id: string } | undefined;
  return r?.id;
}

/** An account's latest repayments, newest first. */
export async function recentRepayments(conn: Conn, accountId: string, limit: number): Promise<Repayment[]> {
  const rows = (await conn('repayments').where({ account_id: accountId }).orderBy('created_at', 'desc').limit(limit)) as Row[];
  return rows.map(toRepayment);
}
