/**
 * The application's error model. Knows nothing of Koa; src/http/error-handler.ts maps these to responses.
 * `expose` messages are safe to show to the user; `cause` is logged, never sent.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly expose: boolean;
  /** Field-level messages for forms and JSON APIs: field name → message. */
  readonly fields: Record<string, string> | undefined;
  /** Field-level machine codes for JSON APIs (field name → code such as `required`), where known. */
  readonly fieldCodes: Record<string, string> | undefined;

  constructor(
    code: string,
    message: string,
    opts: {
      status?: number;
      expose?: boolean;
      cause?: unknown;
      fields?: Record<string, string>;
      fieldCodes?: Record<string, string>;
    } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = opts.status ?? 500;
    this.expose = opts.expose ?? this.status < 500;
    this.fields = opts.fields;
    this.fieldCodes = opts.fieldCodes;
  }
}

/** Invalid configuration: the process refuses to start. */
export class ConfigError extends AppError {
  constructor(message: string) {
    super('config_error', message, { status: 500, expose: false });
  }
}

/** Input failed validation; `fields` says which and why (and `fieldCodes`, when given, as codes). */
export class ValidationError extends AppError {
  constructor(message: string, fields: Record<string, string> = {}, fieldCodes?: Record<string, string>) {
    super('invalid_request', message, { status: 400, fields, ...(fieldCodes ? { fieldCodes } : {}) });
  }
}

/** Nothing has the id or reference given; `fields` names the field that gave it, where the request had one. */
export class NotFoundError extends AppError {
  constructor(message = 'Not found', fields?: Record<string, string>) {
    super('not_found', message, { status: 404, ...(fields ? { fields } : {}) });
  }
}

/**
 * RFC 9110 §15.5.6: the address exists but does not take this method. `allow` is the Allow header's value, which the
 * error mapper sends with the answer (§10.2.1: a 405 must carry it).
 */
export class MethodNotAllowedError extends AppError {
  readonly allow: string;
  constructor(method: string, allow: string) {
    super('method_not_allowed', `${method} is not allowed here; this address takes ${allow}.`, { status: 405 });
    this.allow = allow;
  }
}

/** Card number and password did not match an active card. Deliberately vague (a message may add the lockout's count). */
export class InvalidCredentialsError extends AppError {
  constructor(message = 'The card number or password is not correct.') {
    super('invalid_credentials', message, { status: 401 });
  }
}

/** The request meets the state it finds; `fields` names a field to blame (an id already taken), where there is one. */
export class ConflictError extends AppError {
  constructor(message: string, fields?: Record<string, string>) {
    super('conflict', message, { status: 409, ...(fields ? { fields } : {}) });
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('forbidden', message, { status: 403 });
  }
}
