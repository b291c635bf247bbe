import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** An error whose status, stable code and message are safe to show to a client. */
export class HttpError extends Error {
  override readonly name: string = 'HttpError';

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export class BadRequestError extends HttpError {
  override readonly name = 'BadRequestError';
  constructor(message: string) {
    super(400, 'bad_request', message);
  }
}

export class NotFoundError extends HttpError {
  override readonly name = 'NotFoundError';
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

export class PreconditionFailedError extends HttpError {
  override readonly name = 'PreconditionFailedError';
  constructor(message: string) {
    super(412, 'precondition_failed', message);
  }
}

/**
 * A write whose outcome the service could not learn: it was sent, no answer came, and reading the
 * item back failed too. It may or may not be stored. Distinct from 503 (certainly not applied).
 */
export class WriteOutcomeUnknownError extends HttpError {
  override readonly name = 'WriteOutcomeUnknownError';
  constructor(id: string) {
    super(
      504,
      'write_outcome_unknown',
      `the write to item '${id}' may or may not have been applied; retry with the same ` +
        'Idempotency-Key to get its outcome, or GET the item to check',
    );
  }
}

/** The body is what a client sends for every error: `{ error, message, requestId }`. */
export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly requestId: string;
}

/** Fastify's own client errors mapped to stable codes (the statusCode they carry is kept). */
const FRAMEWORK_CODES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_VALIDATION: 'validation_failed',
  FST_ERR_BAD_URL: 'bad_url',
  FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long',
};

function clip(message: string): string {
  return message.length > 300 ? `${message.slice(0, 297)}...` : message;
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && 'code' in error;
}

/**
 * Maps any error to a JSON body. Client errors keep their status and a safe message; everything
 * else becomes a 500 with a generic message (the stack goes to the log, never to the client).
 */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const requestId = request.id;
  if (error instanceof HttpError) {
    void reply
      .code(error.statusCode)
      .headers(error.headers)
      .send({ error: error.code, message: error.message, requestId } satisfies ErrorBody);
    return;
  }
  if (isFastifyError(error)) {
    const status = error.statusCode ?? 500;
    if (error.validation) {
      void reply.code(400).send({
        error: 'validation_failed',
        message: clip(error.message),
        requestId,
      } satisfies ErrorBody);
      return;
    }
    if (status >= 400 && status < 500) {
      // Fastify's client-error messages describe the request, not the server.
      void reply.code(status).send({
        error: FRAMEWORK_CODES[error.code] ?? 'bad_request',
        message: clip(error.message),
        requestId,
      } satisfies ErrorBody);
      return;
    }
    if (status === 503) {
      void reply.code(503).send({
        error: 'unavailable',
        message: 'the service is unavailable, retry later',
        requestId,
      } satisfies ErrorBody);
      return;
    }
  }
  request.log.error({ err: error }, 'unhandled error');
  void reply.code(500).send({
    error: 'internal_error',
    message: 'internal error; quote the requestId when reporting it',
    requestId,
  } satisfies ErrorBody);
}
