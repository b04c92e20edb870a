import type { Logger } from '../log.ts';
import { sendDueNotifications, type SenderDeps } from './sender.ts';

/**
 * Drains the outbox every `intervalSeconds` (0 turns it off), never two drains of this process at once;
 * other instances may drain too (see sendDueNotifications). Returns a function that stops it.
 */
export function startNotificationSender(deps: SenderDeps, log: Logger, intervalSeconds: number, batch: number): () => void {
  if (intervalSeconds <= 0) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sendDueNotifications(deps, batch)
      .catch((err: unknown) => log.warn({ err }, 'notification sender failed'))
      .finally(() => {
        running = false;
      });
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
