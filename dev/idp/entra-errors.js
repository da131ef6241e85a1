// Entra's error bodies at the token endpoint.
//
// oidc-provider's errors carry only `error` and `error_description`; Entra's answers have more
// members (the AADSTS code as a number, trace and correlation ids, a timestamp, often a
// `suberror` that MSAL reads), so the emulation sets the body itself:
//
//   { "error": "invalid_grant",
//     "error_description": "AADSTS65001: … Trace ID: … Correlation ID: … Timestamp: 2025-01-01 12:00:00Z",
//     "error_codes": [65001], "timestamp": "2025-01-01 12:00:00Z", "trace_id": "…",
//     "correlation_id": "…", "error_uri": "https://login.microsoftonline.com/error?code=65001",
//     "suberror": "consent_required" }

import * as crypto from 'node:crypto';

/** Entra's timestamps in error bodies: "2024-05-01 12:34:56Z". */
export const entraTimestamp = (date = new Date()) => `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;

/**
 * An Entra error body. `message` is the text after "AADSTS<code>: "; the trace id, correlation id
 * and timestamp are appended to it as Entra does. Further members (`claims`, …) go in `more`.
 */
export function entraErrorBody({
  error, code, message, suberror, ...more
}) {
  const timestamp = entraTimestamp();
  const traceId = crypto.randomUUID();
  const correlationId = crypto.randomUUID();
  return {
    error,
    error_description: `AADSTS${code}: ${message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    ...(suberror ? { suberror } : {}),
    ...more,
  };
}

/** Answers the token request with `body` (HTTP 400), as Entra does. */
export function refuse(ctx, body) {
  ctx.status = 400;
  ctx.body = body;
}
