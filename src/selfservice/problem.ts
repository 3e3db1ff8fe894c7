// Error responses of the self-service API as RFC 9457 problem details (application/problem+json). Handlers throw
// ProblemError; one error handler turns it, and any other error, into the response.

/** One invalid input: a JSON Pointer into the request body, or the name of a query parameter. */
export interface FieldError {
  pointer?: string;
  parameter?: string;
  detail: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

export const problemContentType = "application/problem+json";

const typeBase = "https://tenancy.dev/problems/";

/** The problem types the API returns, with their fixed title and status. */
export const ProblemTypes = {
  malformedRequest: { type: `${typeBase}malformed-request`, title: "Malformed request", status: 400 },
  unauthenticated: { type: `${typeBase}unauthenticated`, title: "Authentication required", status: 401 },
  forbidden: { type: `${typeBase}forbidden`, title: "Forbidden", status: 403 },
  notFound: { type: `${typeBase}not-found`, title: "Not found", status: 404 },
  conflict: { type: `${typeBase}conflict`, title: "Conflict", status: 409 },
  payloadTooLarge: { type: `${typeBase}payload-too-large`, title: "Request body too large", status: 413 },
  unsupportedMediaType: { type: `${typeBase}unsupported-media-type`, title: "Unsupported media type", status: 415 },
  validationFailed: { type: `${typeBase}validation-failed`, title: "Validation failed", status: 422 },
  rateLimited: { type: `${typeBase}rate-limited`, title: "Too many requests", status: 429 },
  internal: { type: `${typeBase}internal`, title: "Internal error", status: 500 },
  upstreamUnavailable: { type: `${typeBase}upstream-unavailable`, title: "Upstream unavailable", status: 503 },
} as const;

export type ProblemKind = keyof typeof ProblemTypes;

/** An error that becomes a problem response; `headers` go out with it (Retry-After, WWW-Authenticate). */
export class ProblemError extends Error {
  readonly problem: Problem;
  readonly headers: Record<string, string>;

  constructor(
    kind: ProblemKind,
    detail: string,
    options: { errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = "ProblemError";
    this.problem = { ...ProblemTypes[kind], detail, ...(options.errors ? { errors: options.errors } : {}) };
    this.headers = options.headers ?? {};
  }
}

/** Escapes one JSON Pointer reference token (RFC 6901). */
export function pointerToken(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}
