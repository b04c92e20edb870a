import type { Channel } from '../db/outbox.ts';

/** One rendered message on its way out. */
export interface OutgoingMessage {
  /** The outbox row id: unique, so it names files and idempotency keys. */
  id: number;
  channel: Channel;
  to: string;
  subject: string;
  text: string;
  template: string;
}

/** Delivers a message or throws; the sender retries what throws. */
export interface Transport {
  send(message: OutgoingMessage): Promise<void>;
}

export type Transports = Readonly<Record<Channel, Transport>>;
