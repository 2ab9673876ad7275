/**
 * A query the service cannot answer as asked: the API turns it into a 400 (or 501)
 * JSON error naming the option, the position in it and the offending token.
 */
export class StaQueryError extends Error {
  constructor(
    message: string,
    readonly details: { option?: string; position?: number; token?: string; status?: 400 | 404 | 501 } = {},
  ) {
    super(message);
    this.name = 'StaQueryError';
  }
}

/** `what` at `pos` of the option being compiled. */
export function queryError(message: string, pos?: number, token?: string, status: 400 | 501 = 400): StaQueryError {
  return new StaQueryError(message, { ...(pos === undefined ? {} : { position: pos }), ...(token === undefined ? {} : { token }), status });
}
