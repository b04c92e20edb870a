import path from 'node:path';
import type { Config } from '../config/schema.ts';
import { fileEmailTransport, smtpEmailTransport } from './email-transport.ts';
import { fileSmsTransport, webhookSmsTransport } from './sms-transport.ts';
import type { Transports } from './transport.ts';

/** The email and SMS transports config asks for; file transports write under <dataDir>/outbox (refused in production). */
export function createTransports(config: Config): Transports {
  const n = config.notifications;
  const dir = path.join(config.dataDir, 'outbox');
  return {
    email: n.email.transport === 'smtp' ? smtpEmailTransport(n.email.smtp, config.secrets.smtpPassword, n.from) : fileEmailTransport(dir, n.from),
    sms:
      n.sms.transport === 'webhook' && n.sms.webhookUrl
        ? webhookSmsTransport(n.sms.webhookUrl, config.secrets.smsWebhookToken)
        : fileSmsTransport(dir),
  };
}
