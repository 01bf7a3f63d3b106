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
export type Me = Schemas['MeView'];
export type MeSettings = Schemas['UpdateMeRequest'];
export type AuthTokens = Schemas['AuthTokens'];
export type Statistics = Schemas['Statistics'];
export type Breakdown = Schemas['Breakdown'];
export type Activity = Schemas['Activity'];
export type Trends = Schemas['Trends'];
export type TrendsBucket = Schemas['TrendsBucket'];
export type TrendsInterval = Schemas['TrendsInterval'];
export type DurationPercentiles = Schemas['DurationPercentiles'];
/** A team's trends bucket: one owner's completions in it (`by_member`). */
export type MemberThroughput = Schemas['MemberThroughput'];
export type SharedOverview = Schemas['SharedOverview'];
/** A personal access token as listed (never its secret). */
export type PersonalToken = Schemas['PersonalToken'];
/** What POST /tokens answers: the token's fields and, this once, `token` (`tp_pat_…`). */
export type CreatedPersonalToken = Schemas['CreatedPersonalToken'];
export type PersonalTokenPage = Schemas['PersonalTokenPage'];
export type TokenQuery = Query<'/api/v1/tokens', 'get'>;
/** A webhook as listed (never its secret). */
export type Webhook = Schemas['Webhook'];
/** What POST /webhooks answers: the webhook's fields and, this once, `secret` (`whsec_…`). */
export type CreatedWebhook = Schemas['CreatedWebhook'];
export type WebhookPage = Schemas['WebhookPage'];
export type WebhookQuery = Query<'/api/v1/webhooks', 'get'>;
export type WebhookDeliveryPage = Schemas['WebhookDeliveryPage'];
export type WebhookDeliveryQuery = Query<'/api/v1/webhooks/{id}/deliveries', 'get'>;
/** An in-app notification, as the inbox lists it and the `notifications` topic sends it. */
export type Notification = Schemas['Notification'];
export type NotificationPage = Schemas['NotificationPage'];
export type NotificationQuery = Query<'/api/v1/notifications', 'get'>;
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
export type TrendsQuery = Omit<Query<'/api/v1/dashboard/trends', 'get'>, 'interval' | 'format'> & {
  interval?: TrendsInterval;
};

/** The task files: CSV (RFC 4180, the export's columns) or NDJSON (one task a line). */
export type TransferFormat = Schemas['TransferFormat'];
/** GET /tasks/export: the filters of GET /tasks, without paging, and the file's format. */
export type ExportQuery = Query<'/api/v1/tasks/export', 'get'>;
/** What POST /tasks/import answers (201). */
export type ImportSummary = Schemas['ImportSummary'];
/** An error of a refused import (422): the file's `line` (a CSV header is line 1) and `field`. */
export type ImportError = FieldError & { line: number };
/** What `importTasks` sends: text, a Blob or File, or bytes. */
export type ImportFile = string | Blob | ArrayBuffer | ArrayBufferView;

/** A failed call: the RFC 9457 problem the server answered (status 0: it could not be reached). */
export class ProblemError extends Error {
  constructor(status: number, problem?: Partial<Problem> | null);
  readonly status: number;
  readonly type: string | null;
  readonly code: string | null;
  readonly title: string | null;
  readonly detail: string | null;
  /** The fields at fault; a refused import's carry the file's `line` too (ImportError). */
  readonly errors: FieldError[];
  readonly requestId: string | null;
  readonly problem: Partial<Problem> | null;
}

/** What every personal access token starts with: `tp_pat_`. */
export const PERSONAL_TOKEN_PREFIX: string;

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
  me(): Promise<Me>;
  updateMe(settings: MeSettings): Promise<Me>;
  deleteMe(): Promise<null>;

  createTask(body: Schemas['CreateTaskRequest']): Promise<Task>;
  listTasks(query?: TaskQuery): Promise<TaskPage>;
  getTask(taskId: string): Promise<Task>;
  updateTask(taskId: string, body: Schemas['UpdateTaskRequest'], options?: { ifMatch?: number }): Promise<Task>;
  deleteTask(taskId: string): Promise<null>;
  shareTask(taskId: string, body: Schemas['ShareRequest']): Promise<Share>;
  listShares(taskId: string): Promise<ShareList>;
  unshareTask(taskId: string, userId: string): Promise<null>;
  /** The export as a successful Response, its body unread (`.blob()`, `.text()`, `.body`). */
  exportTasks(query?: ExportQuery): Promise<Response>;
  /**
   * Imports a CSV or NDJSON file (format from its name or type unless given); a refused file
   * rejects with a ProblemError (422) whose `errors` are ImportErrors.
   */
  importTasks(file: ImportFile, options?: { format?: TransferFormat; teamId?: string }): Promise<ImportSummary>;

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
  /** The trends (`tz`, `interval`, `from`, `to`); with `format: 'csv'`, the CSV text. */
  trends(query?: TrendsQuery & { format?: 'json' }): Promise<Trends>;
  trends(query: TrendsQuery & { format: 'csv' }): Promise<string>;
  shared(): Promise<SharedOverview>;
  /** Creates a personal access token; the answer holds it, once. Tokens cannot create tokens. */
  createToken(body: Schemas['CreateTokenRequest']): Promise<CreatedPersonalToken>;
  listTokens(query?: TokenQuery): Promise<PersonalTokenPage>;
  /** Revokes a personal access token: it stops working at once, everywhere. */
  revokeToken(tokenId: string): Promise<null>;
  /** Creates a webhook (the caller's, or with `team_id` a team's); the answer holds its secret, once. */
  createWebhook(body: Schemas['CreateWebhookRequest']): Promise<CreatedWebhook>;
  /** The caller's webhooks and those of the teams they manage, newest first. */
  listWebhooks(query?: WebhookQuery): Promise<WebhookPage>;
  /** Deletes a webhook with its pending events. */
  deleteWebhook(webhookId: string): Promise<null>;
  /** A webhook's delivery attempts, newest first. */
  listWebhookDeliveries(webhookId: string, query?: WebhookDeliveryQuery): Promise<WebhookDeliveryPage>;
  /** The caller's notifications, newest first (`unread: true`: only those not read yet). */
  listNotifications(query?: NotificationQuery): Promise<NotificationPage>;
  markNotificationRead(notificationId: string): Promise<null>;
  markAllNotificationsRead(): Promise<null>;
  auditLogs(query?: AuditQuery): Promise<AuditPage>;
  health(): Promise<Health>;

  /** Every item of a paginated list: `for await (const t of client.all(client.listTasks, q))`. */
  all<T, Q extends { cursor?: string }>(
    list: (query?: Q) => Promise<{ items: T[]; next_cursor?: string | null }>,
    query?: NoInfer<Omit<Q, 'cursor'>>,
  ): AsyncGenerator<T, void, undefined>;
  /** A string, Blob or bytes `body` is sent as it is (give its Content-Type), others as JSON. */
  request<T = unknown>(method: string, path: string, options?: {
    query?: Record<string, string | number | boolean | null | undefined>;
    body?: unknown;
    headers?: Record<string, string>;
  }): Promise<T>;
}

export type LiveStatus = 'connecting' | 'connected' | 'disconnected';

/** `user`, `team:<id>`: the dashboard topics. */
export type AggregateTopic = 'user' | `team:${string}`;
/** `trends:user`, `trends:team:<id>`. */
export type TrendsTopic = `trends:${string}`;
/** `feed:user`, `feed:team:<id>`. */
export type FeedTopic = `feed:${string}`;

export interface AggregateSnapshotMessage {
  type: 'snapshot'; topic: AggregateTopic; version: number;
  stats: Statistics; breakdown: Breakdown; activity: Activity;
}
export interface TrendsSnapshotMessage { type: 'snapshot'; topic: TrendsTopic; version: number; trends: Trends }
export type SnapshotMessage = AggregateSnapshotMessage | TrendsSnapshotMessage;
export interface AggregateDeltaMessage {
  type: 'delta'; topic: AggregateTopic; version: number;
  changes: Partial<Record<'total' | 'pending' | 'in_progress' | 'completed' | 'overdue' | 'shared_with_me' | 'shared_by_me', number>>;
  stats: Statistics;
}
/**
 * A trends delta: `buckets` each bucket the change moved, whole; `trends` (added by the
 * client) the trends with them put in place.
 */
export interface TrendsDeltaMessage {
  type: 'delta'; topic: TrendsTopic; version: number; buckets: TrendsBucket[]; trends: Trends;
}
export type DeltaMessage = AggregateDeltaMessage | TrendsDeltaMessage;
/** A feed has started, or a resume is done: `version` the one reached (not for feeds). */
export interface SubscribedMessage { type: 'subscribed'; topic: string; version?: number }
export interface FeedMessage { type: 'feed'; topic: string; entry: AuditEntry }
/** One of the caller's notifications, on the `notifications` topic. */
export interface NotificationMessage { type: 'notification'; topic: 'notifications'; notification: Notification }
export interface UnsubscribedMessage { type: 'unsubscribed'; topic: string; reason: 'membership_revoked' | 'requested' }
/**
 * An error about a topic (`topic` set), or, without one, a refused token renewal:
 * `user_mismatch` (another user's token) or `invalid_token`, after which the client connects
 * again with a fresh token.
 */
export interface ErrorMessage { type: 'error'; code: string; message: string; topic?: string }
/** The open session took a renewed access token; it now expires at `expires_at`. */
export interface AuthenticatedMessage { type: 'authenticated'; expires_at: string }

export interface LiveEvents {
  status: CustomEvent<{ status: LiveStatus; staleSince: Date | null }>;
  snapshot: CustomEvent<SnapshotMessage>;
  delta: CustomEvent<DeltaMessage>;
  subscribed: CustomEvent<SubscribedMessage>;
  feed: CustomEvent<FeedMessage>;
  notification: CustomEvent<NotificationMessage>;
  revoked: CustomEvent<UnsubscribedMessage>;
  error: CustomEvent<ErrorMessage>;
  authenticated: CustomEvent<AuthenticatedMessage>;
  signedout: CustomEvent<null>;
}

export interface LiveClientOptions {
  /** The WebSocket endpoint; by default `/api/v1/ws` of the client's server. */
  url?: string;
  /** The WebSocket constructor where there is no global one (Node 20: `ws`'s). */
  WebSocket?: unknown;
}

export interface SubscribeOptions {
  /** Resume a dashboard or trends topic after this version. */
  sinceVersion?: number | null;
  /** Resume a feed topic after this entry id, `notifications` after this notification's. */
  since?: string | null;
  /** An IANA zone: the days of a dashboard topic's activity, a trends topic's calendar. */
  tz?: string | null;
  /** Trends topics: `day`, `week` (the default) or `month`. */
  interval?: TrendsInterval | null;
  /** Trends topics: the first day wanted, `YYYY-MM-DD` (default 12 intervals back). */
  from?: string | null;
}

/**
 * Follows topics over /api/v1/ws (`user`, `team:<id>`, `trends:user`, `trends:team:<id>`,
 * `feed:user`, `feed:team:<id>`, `notifications`): versions checked, trends buckets kept, reconnection with
 * jittered backoff, resume with `since_version` / `since`, and each renewed token handed to the
 * open session (`authenticated`), which keeps its subscriptions.
 */
export class LiveClient extends EventTarget {
  constructor(client: Client, options?: LiveClientOptions);
  readonly status: LiveStatus;
  readonly staleSince: Date | null;
  readonly topics: string[];
  version(topic: string): number | null;
  lastEntry(topic: string): string | null;
  /** A trends topic's trends with every delta applied (null before its snapshot). */
  trends(topic: string): Trends | null;
  start(): void;
  stop(): void;
  /** A TypeError for an option the topic does not take (`interval` on `user`, `tz` on a feed). */
  subscribe(topic: string, options?: SubscribeOptions): void;
  unsubscribe(topic: string): void;
  resubscribe(topic: string): void;
  addEventListener<K extends keyof LiveEvents>(type: K, listener: (event: LiveEvents[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
}

/** The delay before reconnection attempt `n` (0-based), in ms. */
export function backoffDelay(n: number): number;

/** `buckets` (oldest first) with each of `moved` in place of the one with its `start`. */
export function replaceBuckets(buckets: TrendsBucket[], moved: TrendsBucket[]): TrendsBucket[];

/** `ndjson` for a file named `*.ndjson` / `*.jsonl` or of an NDJSON type, else `csv`. */
export function importFormatOf(file: ImportFile): TransferFormat;
