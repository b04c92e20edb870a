import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { OutgoingMessage, Transport } from './transport.ts';

/** Development and test: each SMS is written to <dir>/<outbox id>-sms.json. */
export function fileSmsTransport(dir: string): Transport {
  return {
    async send(m: OutgoingMessage) {
      await mkdir(dir, { recursive: true });
      const body = JSON.stringify({ to: m.to, text: m.text, template: m.template }, null, 2);
      await writeFile(path.join(dir, `${m.id}-sms.json`), body, { mode: 0o600 });
    },
  };
}

/**
 * Production: POSTs {to, text} as JSON to an SMS gateway (or an adapter in front of one), with an
 * Idempotency-Key so a gateway can drop the duplicate if a retry follows a lost answer.
 */
export function webhookSmsTransport(url: string, token: string | undefined): Transport {
  return {
    async send(m: OutgoingMessage) {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': `cybercard-outbox-${m.id}`,
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ to: m.to, text: m.text }),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`SMS gateway answered ${res.status}`);
    },
  };
}
