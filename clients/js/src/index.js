// @taskpulse/client: typed REST calls (Client), problem+json errors (ProblemError) and the
// live WebSocket client (LiveClient). Plain ES modules for browsers and Node >= 20.

export { Client, importFormatOf } from './rest.js';
export { LiveClient, backoffDelay } from './live.js';
export { replaceBuckets } from './topics.js';
export { ProblemError } from './problem.js';
export { PERSONAL_TOKEN_PREFIX, Tokens, tokenExpiry } from './tokens.js';
