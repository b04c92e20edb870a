import { decide, type DecisionDeps } from '../cards/decide-application.ts';
import { listApplications, showApplication } from '../cards/list-applications.ts';
import { applicationPolicy } from '../cards/application-policy.ts';
import { reviewFindings } from '../cards/review-findings.ts';
import type { Config } from '../config/schema.ts';
import type { Application } from '../db/applications.ts';
import type { Db } from '../db/knex.ts';
import { ValidationError } from '../errors.ts';
import { applicationIdParam, applicationListInput, approveInput, rejectInput } from './application-inputs.ts';
import { cliActor } from './cli-actor.ts';
import { cliArgs } from './cli-options.ts';
import { parseInput, SOME_FIELDS } from './operator-input.ts';

type Handler = (ctx: { config: Config; db: Db; args: string[] }) => Promise<void>;

export const APPLICATION_COMMANDS_USAGE = `  applications list [--status review|approved|rejected] [--limit N]
                                            the review queue (oldest first), or decided applications
  applications show ID                      one application; in review, also what a check finds now
  applications approve ID [--reason TEXT] [--accept-duplicate]
                                            activate the pending card; the applicant is notified. Refused if
                                            the deny list (cards.denyList) matches the applicant now, if
                                            the guardian's card is no longer active or the guardian's children
                                            fill cards.maxWardsPerGuardian, or if another holder's card has the
                                            contacts or an account on them owes; --accept-duplicate approves
                                            past a duplicate or debt you have checked (cards.duplicates review)
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

/** What decide() holds an approval to, from config/ (the deny list compiled as the server compiles it). */
function decisionDeps(config: Config, db: Db): DecisionDeps {
  const p = applicationPolicy(config.cards);
  return {
    db,
    duplicates: p.duplicates,
    maxWardsPerGuardian: p.maxWardsPerGuardian,
    denyList: p.denyList,
    denyListAction: p.denyListAction,
    delinquency: { ...config.delinquency, timeZone: config.billing.timeZone },
  };
}

/** The one positional argument (the application id) of a command. */
function theApplication(positionals: string[]): string {
  if (positionals.length !== 1) throw new ValidationError(SOME_FIELDS, { application_id: 'Give exactly one application id.' });
  return positionals[0]!;
}

/** The application and the options of a decision command, under the API's names. */
function decisionArgs(args: string[], decision: 'approve' | 'reject'): { application_id: string; reason?: string; accept_duplicate?: true } {
  const { values, positionals } = cliArgs(args, DECISION_OPTIONS, { positionals: true });
  if (values['accept-duplicate'] && decision !== 'approve') throw new ValidationError(SOME_FIELDS, { accept_duplicate: 'Goes with approve only.' });
  return {
    application_id: theApplication(positionals),
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
    ...(values['accept-duplicate'] ? { accept_duplicate: true as const } : {}),
  };
}

/** The operator's review-queue commands for src/cli.ts. */
export const applicationCommands: Record<string, Handler> = {
  async 'applications list'({ db, args }) {
    const { values } = cliArgs(args, { status: { type: 'string' }, limit: { type: 'string' } });
    const q = parseInput(applicationListInput, values);
    const found = await listApplications(db, q);
    if (found.length === 0) console.log(q.status === 'review' ? 'the review queue is empty' : `no ${q.status} applications`);
    for (const a of found) console.log(line(a));
  },

  async 'applications show'({ config, db, args }) {
    const { positionals } = cliArgs(args, {}, { positionals: true });
    const { application_id: applicationId } = parseInput(applicationIdParam, { application_id: theApplication(positionals) });
    const app = await showApplication(db, applicationId);
    printApplication(app);
    if (app.status !== 'review') return;
    const findings = await reviewFindings(db, app, decisionDeps(config, db));
    if (findings.length === 0) console.log('  found now: nothing');
    for (const f of findings) console.log(`  found now: ${f.code}: ${f.about}`);
  },

  async 'applications approve'({ config, db, args }) {
    const input = parseInput(approveInput, decisionArgs(args, 'approve'));
    printDecision(
      await decide(
        decisionDeps(config, db),
        { applicationId: input.application_id, reason: input.reason, acceptDuplicate: input.accept_duplicate, decision: 'approve', actor: cliActor() },
      ),
    );
  },

  async 'applications reject'({ config, db, args }) {
    const input = parseInput(rejectInput, decisionArgs(args, 'reject'));
    printDecision(
      await decide(
        decisionDeps(config, db),
        { applicationId: input.application_id, reason: input.reason, decision: 'reject', actor: cliActor() },
      ),
    );
  },
};
