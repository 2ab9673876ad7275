/**
 * HTTP-facing errors: every error leaves as JSON `{ error, message }` with the right
 * status. Validation failures are 400 and name the field; nothing a client sends
 * produces a 500.
 */
import type { FastifyError, FastifyInstance } from 'fastify';

/**
 * Values a client may use to say the error in its own words (the web app translates by
 * `code` and fills in these): the field concerned and what the message names.
 */
export type ErrorDetails = Record<string, string | number>;

export class HttpError extends Error {
  readonly details: ErrorDetails | undefined;
  constructor(readonly statusCode: number, readonly code: string, message: string, options?: { cause?: unknown; details?: ErrorDetails }) {
    super(message, options);
    this.name = 'HttpError';
    this.details = options?.details;
  }
}

/** 404 naming what was asked for and, where there are too many to list, the route that lists what exists. */
export const notFound = (what: string, listedAt?: string): HttpError =>
  new HttpError(404, 'STADTFUNK_ERR_NOT_FOUND', `${what} not found${listedAt ? `; ${listedAt} lists what exists` : ''}`);
export const badRequest = (message: string): HttpError => new HttpError(400, 'STADTFUNK_ERR_BAD_REQUEST', message);

const STATUS_NAMES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
  409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 429: 'Too Many Requests',
  500: 'Internal Server Error', 503: 'Service Unavailable',
};

/**
 * Makes "body/devEui must match pattern …" read as "devEui: must match pattern …", and
 * gives the field and the failed JSON Schema keyword as details for a translated message.
 */
function validationMessage(error: FastifyError): { message: string; details: ErrorDetails } {
  const first = error.validation?.[0];
  if (!first) return { message: error.message, details: {} };
  const params = first.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[]; limit?: unknown } | undefined;
  const path = (first.instancePath || '').replace(/^\//, '').replace(/\//g, '.');
  const field = path || params?.missingProperty || params?.additionalProperty || error.validationContext || 'request';
  const details: ErrorDetails = { field, keyword: first.keyword };
  if (first.keyword === 'required' && params?.missingProperty) {
    details.field = path ? `${path}.${params.missingProperty}` : params.missingProperty;
    return { message: `${params.missingProperty}: is required (in ${error.validationContext})`, details };
  }
  if (first.keyword === 'additionalProperties' && params?.additionalProperty) {
    details.field = path ? `${path}.${params.additionalProperty}` : params.additionalProperty;
    return { message: `${params.additionalProperty}: is not a known field (in ${error.validationContext})`, details };
  }
  if (first.keyword === 'enum' && params?.allowedValues) {
    details.allowed = params.allowedValues.join(', ');
    return { message: `${field}: must be one of ${params.allowedValues.join(', ')}`, details };
  }
  if (typeof params?.limit === 'number') details.limit = params.limit;
  return { message: `${field}: ${first.message ?? 'is invalid'}`, details };
}

/**
 * PostgreSQL's data exceptions (SQLSTATE class 22) are values the client sent that the
 * database cannot hold, not server faults: above all U+0000, which neither text nor
 * jsonb takes (22021 in text, 22P05 in JSON).
 */
function refusedValue(error: unknown): string | null {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^22[0-9A-Z]{3}$/.test(code)) return null;
  if (code === '22021' || code === '22P05') return 'a text value contains the character U+0000 (NUL), which cannot be stored: remove it';
  return `the database refused a value: ${(error as Error).message}`;
}

/**
 * The database did not answer (not running, restarting, unreachable): 503, as /health says,
 * not a 500, for this is no fault of the request or the code and passes by itself. A
 * socket error (no SQLSTATE), pg's own connect timeout or ended connection, SQLSTATE
 * class 08 (connection exception) or 57P01–57P03 (shutting down, starting up).
 */
function databaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE)$/.test(code) || /^08[0-9A-Z]{3}$/.test(code) || /^57P0[123]$/.test(code);
  const message = (error as Error).message ?? '';
  return /^(timeout exceeded when trying to connect|Connection terminated( unexpectedly| due to connection timeout)?)$/.test(message);
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpError) {
      return reply.status(error.statusCode).send({ error: STATUS_NAMES[error.statusCode] ?? 'Error', code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) });
    }
    if (error.validation) {
      const { message, details } = validationMessage(error);
      return reply.status(400).send({ error: 'Bad Request', code: 'STADTFUNK_ERR_VALIDATION', message, details });
    }
    if (databaseUnavailable(error)) {
      request.log.warn({ reason: error.message, code: error.code }, 'request failed: the database does not answer');
      return reply.status(503).header('retry-after', '5').send({ error: 'Service Unavailable', code: 'STADTFUNK_ERR_DATABASE_UNAVAILABLE', message: 'the database does not answer; /health says more' });
    }
    const refused = refusedValue(error);
    if (refused) return reply.status(400).send({ error: 'Bad Request', code: 'STADTFUNK_ERR_UNSTORABLE_VALUE', message: refused });
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'request failed');
    return reply.status(status).send({
      error: STATUS_NAMES[status] ?? 'Error',
      code: error.code ?? 'STADTFUNK_ERR_INTERNAL',
      message: status === 500 ? 'internal error; the server log has the details' : error.message,
    });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: 'Not Found', code: 'STADTFUNK_ERR_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
}
