import type { Conn } from './knex.ts';
import { dateString } from './rows.ts';

export type CardStatus = 'pending' | 'active' | 'suspended' | 'lost' | 'closed';

export interface Account {
  id: string;
  legalName: string;
  birthdate: string;
  email: string | null;
  mobile: string | null;
  guardianAccountId: string | null;
  /** Credit line in minor units of `currency`. */
  creditLimit: number;
  currency: string;
  statementDay: number;
}

export interface Card {
  id: string;
  accountId: string;
  last4: string;
  passwordHash: string;
  status: CardStatus;
}

type Row = Record<string, unknown>;

function toAccount(r: Row): Account {
  return {
    id: r.id as string,
    legalName: r.legal_name as string,
    birthdate: dateString(r.birthdate),
    email: (r.email as string | null) ?? null,
    mobile: (r.mobile as string | null) ?? null,
    guardianAccountId: (r.guardian_account_id as string | null) ?? null,
    creditLimit: Number(r.credit_limit),
    currency: r.currency as string,
    statementDay: Number(r.statement_day),
  };
}

function toCard(r: Row): Card {
  return {
    id: r.id as string,
    accountId: r.account_id as string,
    last4: r.last4 as string,
    passwordHash: r.password_hash as string,
    status: r.status as CardStatus,
  };
}

export async function insertAccount(conn: Conn, a: Account): Promise<void> {
  await conn('accounts').insert({
    id: a.id,
    legal_name: a.legalName,
    birthdate: a.birthdate,
    email: a.email,
    mobile: a.mobile,
    guardian_account_id: a.guardianAccountId,
    credit_limit: a.creditLimit,
    currency: a.currency,
    statement_day: a.statementDay,
  });
}

export async function findAccount(conn: Conn, id: string): Promise<Account | undefined> {
  const r = (await conn('accounts').where({ id }).first()) as Row | undefined;
  return r ? toAccount(r) : undefined;
}

export async function insertCard(
  conn: Conn,
  c: Omit<Card, 'status'> & { status: CardStatus; numberHmac: Buffer },
): Promise<void> {
  await conn('cards').insert({
    id: c.id,
    account_id: c.accountId,
    number_hmac: c.numberHmac,
    last4: c.last4,
    password_hash: c.passwordHash,
    status: c.status,
  });
}

export async function findCardByNumberHmac(conn: Conn, numberHmac: Buffer): Promise<Card | undefined> {
  const r = (await conn('cards').where({ number_hmac: numberHmac }).first()) as Row | undefined;
  return r ? toCard(r) : undefined;
}

export async function findCard(conn: Conn, id: string): Promise<Card | undefined> {
  const r = (await conn('cards').where({ id }).first()) as Row | undefined;
  return r ? toCard(r) : undefined;
}

/** True when some card already has this number (by HMAC). */
export async function cardNumberTaken(conn: Conn, numberHmac: Buffer): Promise<boolean> {
  const r = await conn('cards').select('id').where({ number_hmac: numberHmac }).first();
  return Boolean(r);
}
/** True while the account has at least one active card. */
export async function accountHasActiveCard(conn: Conn, accountId: string): Promise<boolean> {
  const r = await conn('cards').select('id').where({ account_id: accountId, status: 'active' }).first();
  return Boolean(r);
}
