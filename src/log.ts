import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Redaction is a second line of defence: card numbers, passwords and
 * secrets are never passed to the logger in the first place.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'cybercard' },
    redact: {
      paths: [
        'password',
        'card_number',
        'cardNumber',
        'client_secret',
        'clientSecret',
        '*.password',
        '*.card_number',
        '*.cardNumber',
        '*.client_secret',
        'req.headers.authorization',
        'req.headers.cookie',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
