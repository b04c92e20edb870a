import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { OutgoingMessage, Transport } from './transport.ts';

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  user: string | null;
}

/**
 * Development and test: nodemailer's JSON transport builds the real message, which is written to
 * <dir>/<outbox id>-email.json instead of being sent.
 */
export function fileEmailTransport(dir: string, from: string): Transport {
  const mailer = nodemailer.createTransport({ jsonTransport: true });
  return {
    async send(m: OutgoingMessage) {
      const info = await mailer.sendMail({ from, to: m.to, subject: m.subject, text: m.text });
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, `${m.id}-email.json`), info.message, { mode: 0o600 });
    },
  };
}

/**
 * Production: SMTP (often a relay on localhost); the password comes from the environment. It gives up on a relay that
 * does not connect or greet within 10 s, or goes 30 s without a word, well within the sender's lease on the message
 * (sender.ts SEND_LEASE_SECONDS; nodemailer's own defaults wait up to 2 and 10 minutes).
 */
export function smtpEmailTransport(smtp: SmtpSettings, password: string | undefined, from: string): Transport {
  const mailer = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    ...(smtp.user ? { auth: { user: smtp.user, pass: password ?? '' } } : {}),
  });
  return {
    async send(m: OutgoingMessage) {
      await mailer.sendMail({ from, to: m.to, subject: m.subject, text: m.text });
    },
  };
}
