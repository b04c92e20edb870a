import { parseArgs } from 'node:util';
import { decide } from '../cards/decide-application.ts';
import { listApplications, showApplication } from '../cards/list-applications.ts';
import type { Config } from '../config/schema.ts';
import type { Application } from '../db/applications.ts';
import type { Db } from '../db/knex.ts';
import { parseWith } from '../http/validate.ts';
import { applicationIdParam, applicationListInput, approveInput, rejectInput } from './application-inputs.ts';
import { cliActor } from './cli-actor.ts';

type Handler = (ctx: { config: Config; db: Db; args: string[] }) => Promise<void>;

export const APPLICATION_COMMANDS_USAGE = `  applications list [--status review|approved|rejected] [--limit N]
                                            the review queue (oldest first), or decided applications
  applications show ID                      one application
  applications approve ID [--reason TEXT] [--accept-duplicate]
                                            activate the pending card; the applicant is notified. Refused if
                                            the guardian's card is no longer active or another holder's card
                                            has the contacts; --accept-duplicate approves past a duplicate you
                                            have checked (cards.duplicates review)
  applications reject ID --reason TEXT      close the pending card; the applicant is told the reason
`;

function line(a: Application): string {
  const why = a.reason ? `  (${a.reason})` : '';
  return `${a.id}  ${a.status}${why}  ${a.createdAt.toISOString()}  ${a.legalName}  born ${a.birthdate}  ${a.email}  ${a.mobile}`;
}

function printApplication(a: Application): void {
  console.log(line(a));
  console.log(`  from ${a.ip}  account ${a.accountId ?? '-'}  card ${a.cardId ?? '-'}  guardian ${a.guardianAccountId ?? '-'}`);
  if (a.decidedAt) console.log(`  decided ${a.decidedAt.toISOString()} by ${a.decidedBy ?? '-'}${a.decisionNote ? `: ${a.decisionNote}` : ''}`);
}

/** A decision as made, or as found made already (nothing changed). */
function printDecision({ application, changed }: { application: Application; changed: boolean }): void {
  if (!changed) console.log(`application ${application.id} was ${application.status} already: nothing changed`);
  printApplication(application);
}

const DECISION_OPTIONS = { reason: { type: 'string' }, 'accept-duplicate': { type: 'boolean' } } as const;

/** The one positional argument (the application id) and the options of a decision command. */
function decisionArgs(args: string[], decision: 'approve' | 'reject'): { applicationId: string; reason?: string; accept_duplicate?: true } {
  const { values, positionals } = parseArgs({ args, options: DECISION_OPTIONS, allowPositionals: true });
  if (positionals.length !== 1) throw new Error('give exactly one application id');
  if (values['accept-duplicate'] && decision !== 'approve') throw new Error('--accept-duplicate goes with approve');
  return {
    applicationId: positionals[0]!,
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
    ...(values['accept-duplicate'] ? { accept_duplicate: true as const } : {}),
  };
}

/** The operator's review-queue commands for src/cli.ts. */
export const applicationCommands: Record<string, Handler> = {
  async 'applications list'({ db, args }) {
    const { values } = parseArgs({ args, options: { status: { type: 'string' }, limit: { type: 'string' } } });
    const q = parseWith(applicationListInput, values);
    const found = await listApplications(db, q);
    if (found.length === 0) console.log(q.status === 'review' ? 'the review queue is empty' : `no ${q.status} applications`);
    for (const a of found) console.log(line(a));
  },

  async 'applications show'({ db, args }) {
    const { positionals } = parseArgs({ args, allowPositionals: true });
    const { applicationId } = parseWith(applicationIdParam, { applicationId: positionals[0] ?? '' });
    printApplication(await showApplication(db, applicationId));
  },

  async 'applications approve'({ config, db, args }) {
    const { accept_duplicate: acceptDuplicate, ...input } = parseWith(approveInput, decisionArgs(args, 'approve'));
    printDecision(await decide({ db, duplicates: config.cards.duplicates }, { ...input, acceptDuplicate, decision: 'approve', actor: cliActor() }));
  },

  async 'applications reject'({ config, db, args }) {
    const input = parseWith(rejectInput, { reason: '', ...decisionArgs(args, 'reject') });
    printDecision(await decide({ db, duplicates: config.cards.duplicates }, { ...input, decision: 'reject', actor: cliActor() }));
  },
};
