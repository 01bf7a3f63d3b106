// The types of @taskpulse/client. The API's own shapes come from types/openapi.d.ts, generated
// from the server's OpenAPI document by openapi-typescript (tests/it/js_client.rs keeps it
// current); this file describes the JavaScript API over them.

import type { components, paths } from './types/openapi.js';

type Schemas = components['schemas'];
type Query<P extends keyof paths, M extends keyof paths[P]> =
  paths[P][M] extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export type Task = Schemas['Task'];
export type TaskPage = Schemas['TaskPage'];
export type Team = Schemas['Team'];
export type TeamPage = Schemas['TeamPage'];
export type TeamDetail = Schemas['TeamDetailView'];
export type Member = Schemas['Member'];
export type Share = Schemas['Share'];
export type ShareList = Schemas['ShareList'];
export type User = Schemas['UserView'];
export type AuthTokens = Schemas['AuthTokens'];
export type Statistics = Schemas['Statistics'];
export type Breakdown = Schemas['Breakdown'];
export type Activity = Schemas['Activity'];
export type SharedOverview = Schemas['SharedOverview'];
export type AuditEntry = Schemas['AuditEntry'];
export type AuditPage = Schemas['AuditPage'];
export type Health = Schemas['Health'];
export type Problem = Schemas['ProblemDetails'];
export type FieldError = Schemas['ProblemFieldError'];

export type TaskQuery = Query<'/api/v1/tasks', 'get'>;
export type TeamQuery = Query<'/api/v1/teams', 'get'>;
export type AuditQuery = Query<'/api/v1/audit-logs', 'get'>;
export type ScopeQuery = Query<'/api/v1/dashboard/statistics', 'get'>;
export type ActivityQuery = Query<'/api/v1/dashboard/activity', 'get'>;

/** A failed call: the RFC 9457 problem the server answered (status 0: it could not be reached). */
export class ProblemError extends Error {
  constructor(status: number, problem?: Partial<Problem> | null);
  readonly status: number;
  readonly type: string | null;
  readonly code: string | null;
  readonly title: string | null;
  readonly detail: string | null;
  readonly errors: FieldError[];
  readonly requestId: string | null;
  readonly problem: Partial<Problem> | null;
}

/** Seconds-since-epoch `exp` of a JWT, or null. */
export function tokenExpiry(token: string): number | null;

/** The session's tokens. Events: `token` (a new access token), `signedout`. */
export class Tokens extends EventTarget {
  constructor(renew: (refreshToken: string) => Promise<AuthTokens>, storage?: Storage | null);
  readonly accessToken: string | null;
  readonly refreshToken: string | null;
  readonly signedIn: boolean;
  restore(): boolean;
  adopt(pair: Pick<AuthTokens, 'access_token' | 'refresh_token' | 'expires_in'>): void;
  adoptAccessToken(token: string): void;
  fresh(): Promise<string | null>;
  renewNow(): Promise<void>;
  close(): void;
  clear(): string | null;
}

export interface ClientOptions {
  /** The server, e.g. `https://tasks.example.com`; '' (the default) for the page's own origin. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Where the session survives a reload (`sessionStorage` in a page). */
  storage?: Storage | null;
}

/** Typed calls to /api/v1, with the bearer token handled. Errors are ProblemErrors. */
export class Client {
  constructor(options?: ClientOptions);
  readonly baseUrl: string;
  readonly tokens: Tokens;

  register(body: Schemas['RegisterRequest']): Promise<AuthTokens>;
  login(body: Schemas['LoginRequest']): Promise<AuthTokens>;
  useAccessToken(token: string): Promise<User>;
  logout(): Promise<void>;
  close(): void;
  me(): Promise<User>;
  deleteMe(): Promise<null>;

  createTask(body: Schemas['CreateTaskRequest']): Promise<Task>;
  listTasks(query?: TaskQuery): Promise<TaskPage>;
  getTask(taskId: string): Promise<Task>;
  updateTask(taskId: string, body: Schemas['UpdateTaskRequest'], options?: { ifMatch?: number }): Promise<Task>;
  deleteTask(taskId: string): Promise<null>;
  shareTask(taskId: string, body: Schemas['ShareRequest']): Promise<Share>;
  listShares(taskId: string): Promise<ShareList>;
  unshareTask(taskId: string, userId: string): Promise<null>;

  createTeam(body: Schemas['CreateTeamRequest']): Promise<Team>;
  listTeams(query?: TeamQuery): Promise<TeamPage>;
  getTeam(teamId: string): Promise<TeamDetail>;
  deleteTeam(teamId: string): Promise<null>;
  addMember(teamId: string, body: Schemas['AddMemberRequest']): Promise<Member>;
  updateMember(teamId: string, userId: string, body: Schemas['ChangeRoleRequest']): Promise<Member>;
  removeMember(teamId: string, userId: string): Promise<null>;

  statistics(query?: ScopeQuery): Promise<Statistics>;
  breakdown(query?: ScopeQuery): Promise<Breakdown>;
  activity(query?: ActivityQuery): Promise<Activity>;
  shared(): Promise<SharedOverview>;
  auditLogs(query?: AuditQuery): Promise<AuditPage>;
  health(): Promise<Health>;

  /** Every item of a paginated list: `for await (const t of client.all(client.listTasks, q))`. */
  all<T, Q extends { cursor?: string }>(
    list: (query?: Q) => Promise<{ items: T[]; next_cursor?: string | null }>,
    query?: NoInfer<Omit<Q, 'cursor'>>,
  ): AsyncGenerator<T, void, undefined>;
  request<T = unknown>(method: string, path: string, options?: {
    query?: Record<string, string | number | boolean | null | undefined>;
    body?: unknown;
    headers?: Record<string, string>;
  }): Promise<T>;
}

export type LiveStatus = 'connecting' | 'connected' | 'disconnected';

export interface SnapshotMessage {
  type: 'snapshot'; topic: string; version: number;
  stats: Statistics; breakdown: Breakdown; activity: Activity;
}
export interface DeltaMessage {
  type: 'delta'; topic: string; version: number;
  changes: Partial<Record<'total' | 'pending' | 'in_progress' | 'completed' | 'overdue' | 'shared_with_me' | 'shared_by_me', number>>;
  stats: Statistics;
}
export interface SubscribedMessage { type: 'subscribed'; topic: string }
export interface FeedMessage { type: 'feed'; topic: string; entry: AuditEntry }
export interface UnsubscribedMessage { type: 'unsubscribed'; topic: string; reason: 'membership_revoked' | 'requested' }
export interface ErrorMessage { type: 'error'; code: string; message: string; topic?: string }

export interface LiveEvents {
  status: CustomEvent<{ status: LiveStatus; staleSince: Date | null }>;
  snapshot: CustomEvent<SnapshotMessage>;
  delta: CustomEvent<DeltaMessage>;
  subscribed: CustomEvent<SubscribedMessage>;
  feed: CustomEvent<FeedMessage>;
  revoked: CustomEvent<UnsubscribedMessage>;
  error: CustomEvent<ErrorMessage>;
  signedout: CustomEvent<null>;
}

export interface LiveClientOptions {
  /** The WebSocket endpoint; by default `/api/v1/ws` of the client's server. */
  url?: string;
  /** The WebSocket constructor where there is no global one (Node 20: `ws`'s). */
  WebSocket?: unknown;
}

/**
 * Follows topics over /api/v1/ws (`user`, `team:<id>`, `feed:user`, `feed:team:<id>`):
 * versions checked, reconnection with jittered backoff, resume with `since_version` / `since`,
 * and a new socket for each renewed token before the old one expires.
 */
export class LiveClient extends EventTarget {
  constructor(client: Client, options?: LiveClientOptions);
  readonly status: LiveStatus;
  readonly staleSince: Date | null;
  readonly topics: string[];
  version(topic: string): number | null;
  lastEntry(topic: string): string | null;
  start(): void;
  stop(): void;
  subscribe(topic: string, options?: { sinceVersion?: number | null; since?: string | null }): void;
  unsubscribe(topic: string): void;
  resubscribe(topic: string): void;
  addEventListener<K extends keyof LiveEvents>(type: K, listener: (event: LiveEvents[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
}

/** The delay before reconnection attempt `n` (0-based), in ms. */
export function backoffDelay(n: number): number;
