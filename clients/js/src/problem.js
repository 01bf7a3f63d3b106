// Errors of the taskpulse API: every 4xx/5xx is an RFC 9457 problem (application/problem+json).

/** A failed call: the answer's problem details, or what is known when there were none. */
export class ProblemError extends Error {
  /**
   * @param {number} status the HTTP status (0 when the server could not be reached)
   * @param {object | null} problem the problem+json body, when the answer had one
   */
  constructor(status, problem = null) {
    super(problem?.detail || problem?.title || `request failed with status ${status}`);
    this.name = 'ProblemError';
    this.status = status;
    this.type = problem?.type ?? null;
    this.code = problem?.code ?? null;
    this.title = problem?.title ?? null;
    this.detail = problem?.detail ?? null;
    this.errors = Array.isArray(problem?.errors) ? problem.errors : [];
    this.requestId = problem?.request_id ?? null;
    this.problem = problem;
  }
}

/** The JSON body of a successful answer (null when empty); a ProblemError otherwise. */
export async function readAnswer(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) throw new ProblemError(response.status, body);
  return body;
}
