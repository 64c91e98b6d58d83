/**
 * Neutron's error model: every failure a client sees is a `NeutronError` with an HTTP status and a
 * `type` (Neutron's exception class name), serialised as
 * `{"NeutronError": {"type", "message", "detail"}}`.
 */
export class NeutronError extends Error {
  /** HTTP status the API answers with. */
  readonly status: number;
  /** Neutron's exception class name, e.g. `NetworkNotFound`. */
  readonly type: string;
  /** Extra detail; Neutron sends an empty string. */
  readonly detail: string;

  constructor(status: number, type: string, message: string, detail = '') {
    super(message);
    this.name = type;
    this.status = status;
    this.type = type;
    this.detail = detail;
  }

  /** The JSON body Neutron answers with. */
  toJSON(): { NeutronError: { type: string; message: string; detail: string } } {
    return { NeutronError: { type: this.type, message: this.message, detail: this.detail } };
  }
}

type Params<M extends string> = M extends `${string}{${infer P}}${infer Rest}` ? { [K in P | keyof Params<Rest>]: string | number } : {};

/** A constructor for one Neutron exception type with a message template (`{name}` placeholders). */
export interface ErrorType<M extends string> {
  (params: Params<M>): NeutronError;
  readonly type: string;
  readonly status: number;
  /** True when `error` was made by this constructor. */
  is(error: unknown): error is NeutronError;
}

/**
 * Declares a Neutron exception type, e.g.
 * `defineError('NetworkNotFound', 404, 'Network {net_id} could not be found.')`.
 */
export function defineError<const M extends string>(type: string, status: number, template: M): ErrorType<M> {
  const make = (params: Params<M>): NeutronError =>
    new NeutronError(
      status,
      type,
      template.replace(/\{(\w+)\}/g, (_, key: string) => String((params as Record<string, unknown>)[key])),
    );
  return Object.assign(make, {
    type,
    status,
    is: (error: unknown): error is NeutronError => error instanceof NeutronError && error.type === type,
  });
}

// Errors raised by the API layer itself carry webob's class names, as in Neutron.
export const HTTPBadRequest = defineError('HTTPBadRequest', 400, '{message}');
export const HTTPNotFound = defineError('HTTPNotFound', 404, 'The resource could not be found.');
export const HTTPForbidden = defineError('HTTPForbidden', 403, '{message}');
export const HTTPRequestEntityTooLarge = defineError('HTTPRequestEntityTooLarge', 413, 'Request is too large.');
export const HTTPMethodNotAllowed = defineError(
  'HTTPMethodNotAllowed',
  405,
  'The server could not comply with the request since it is either malformed or otherwise incorrect.',
);

// neutron_lib.exceptions — the generic families plugins raise.
export const BadRequest = defineError('BadRequest', 400, 'Bad {resource} request: {msg}.');
export const InvalidInput = defineError('InvalidInput', 400, 'Invalid input for operation: {error_message}.');
export const NotAuthorized = defineError('NotAuthorized', 403, 'Not authorized.');
export const PolicyNotAuthorized = defineError('PolicyNotAuthorized', 403, '{rule} is disallowed by policy');
export const Conflict = defineError('Conflict', 409, '{msg}');
export const ServiceUnavailable = defineError('ServiceUnavailable', 503, '{msg}');
export const NotImplementedError = defineError('NotImplementedError', 501, '{msg}');
export const RevisionNumberConstraintFailed = defineError(
  'RevisionNumberConstraintFailed',
  412,
  'Constrained to {expected}, but current revision is {current}',
);
export const OverQuota = defineError('OverQuota', 409, 'Quota exceeded for resources: {overs}.');
export const TagNotFound = defineError('TagNotFound', 404, 'Tag {tag} could not be found.');
export const TagResourceNotFound = defineError('TagResourceNotFound', 404, 'Resource {resource} {resource_id} could not be found.');
export const HTTPNotImplemented = defineError('HTTPNotImplemented', 501, '{message}');
export const InternalServerError = defineError(
  'HTTPInternalServerError',
  500,
  'Request Failed: internal server error while processing your request.',
);

/** `Network` → `NetworkNotFound` with Neutron's message. */
export function notFound(resourceLabel: string, id: string | null): NeutronError {
  return new NeutronError(404, `${resourceLabel}NotFound`, `${resourceLabel} ${id ?? 'None'} could not be found.`);
}

/** Thrown inside a transaction to ask for the whole unit of work to be run again (a lost race). */
export class RetryRequest extends Error {
  constructor(readonly reason: string) {
    super(`retry: ${reason}`);
  }
}
