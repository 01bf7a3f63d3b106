// What the tests share: the server they run against (started by tests/it/js_client.rs, which
// passes TASKPULSE_URL, and TASKPULSE_CONTROL_URL to stop and start it), fresh accounts, and
// waiting for events with a deadline.

import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { Client, LiveClient } from '../src/index.js';

export const baseUrl = process.env.TASKPULSE_URL;

export const PASSWORD = 'correct horse battery';

/** A Client signed in to a new account, closed when test `t` ends. */
export async function newUser(t, name = 'user') {
  if (!baseUrl) throw new Error('TASKPULSE_URL is not set: run these tests with cargo test --test it js_client');
  const client = new Client({ baseUrl });
  t.after(() => client.close());
  const email = `${name}-${randomUUID()}@example.com`;
  const answer = await client.register({ email, password: PASSWORD, display_name: name });
  return { client, email, user: answer.user };
}

/**
 * A LiveClient over `client`, with the ws package's WebSocket (Node 20 has none of its own) or
 * `Socket`, stopped when test `t` ends (a failed one too, or its reconnections would keep Node
 * alive).
 */
export function liveClient(t, client, Socket = WebSocket) {
  const live = new LiveClient(client, { WebSocket: Socket });
  t.after(() => live.stop());
  return live;
}

/**
 * The ws package's WebSocket, recording every socket made (`made`), what each sent and received
 * and the code it was first closed with, and all of it in one `log` in the order it happened:
 * the client's side of the protocol on the wire, against the real server.
 */
export function recordingSockets() {
  const made = [];
  const log = [];
  class RecordingSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      this.index = made.length;
      this.sent = [];
      this.received = [];
      this.closedWith = null;
      made.push(this);
      // Added before the client's listener: what the client does on a message is logged after it.
      this.addEventListener('message', (event) => {
        const message = JSON.parse(String(event.data));
        this.received.push(message);
        log.push({ socket: this.index, event: 'received', message });
      });
    }

    send(text, ...rest) {
      const message = JSON.parse(text);
      this.sent.push(message);
      log.push({ socket: this.index, event: 'sent', message });
      super.send(text, ...rest);
    }

    close(code, ...rest) {
      if (this.closedWith === null) {
        this.closedWith = code;
        log.push({ socket: this.index, event: 'closed', code });
      }
      super.close(code, ...rest);
    }
  }
  return { Socket: RecordingSocket, made, log };
}

/**
 * What a socket sent, without the renewed tokens (every `auth` after the first): with the
 * server's short-lived tokens the client renews every few seconds, whenever a test runs long.
 */
export function withoutRenewals(sent) {
  return sent.filter((message, index) => index === 0 || message.type !== 'auth');
}

/** Stops, starts or restarts the server (on the same address), answering once done. */
export async function control(action) {
  const url = process.env.TASKPULSE_CONTROL_URL;
  if (!url) throw new Error('TASKPULSE_CONTROL_URL is not set');
  const response = await fetch(`${url}/${action}`, { method: 'POST' });
  if (!response.ok) throw new Error(`control ${action} answered ${response.status}`);
}

/**
 * Records every event of the given types on `target`; `next(type, predicate, ms)` answers the
 * first recorded one (or the next to come) that matches, failing after `ms`.
 */
export function recorder(target, types) {
  const seen = [];
  const waiters = new Set();
  for (const type of types) {
    target.addEventListener(type, (event) => {
      seen.push({ type, detail: event.detail });
      for (const waiter of waiters) waiter();
    });
  }
  const answered = new Map(); // type -> index after the last event of it that `next` answered
  return {
    seen,
    /** Of the given type, the next matching event after the last one `next` answered. */
    next(type, predicate = () => true, ms = 5_000) {
      return new Promise((resolve, reject) => {
        const from = () => answered.get(type) ?? 0;
        const look = () => {
          for (let i = from(); i < seen.length; i++) {
            if (seen[i].type === type && predicate(seen[i].detail)) {
              answered.set(type, i + 1);
              waiters.delete(look);
              clearTimeout(timer);
              resolve(seen[i].detail);
              return true;
            }
          }
          return false;
        };
        const timer = setTimeout(() => {
          waiters.delete(look);
          const after = seen.slice(from()).map((e) => `${e.type} ${JSON.stringify(e.detail)?.slice(0, 80)}`);
          reject(new Error(`no matching ${type} event within ${ms} ms; since the last one: ${after.join('; ')}`));
        }, ms);
        if (!look()) waiters.add(look);
      });
    },
  };
}

/** Polls `condition` until it holds, failing after `ms`. */
export async function waitFor(condition, ms = 5_000, what = 'the condition') {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `YYYY-MM-DD` of `at` in the IANA zone `tz`. */
export function dateIn(tz, at = new Date()) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/**
 * A zone whose calendar day is not UTC's right now, so that a test can tell the two apart:
 * Kiritimati (UTC+14) from 11:00 UTC on, Pago Pago (UTC−11) before.
 */
export function zoneAwayFromUtc(at = new Date()) {
  const tz = at.getUTCHours() >= 11 ? 'Pacific/Kiritimati' : 'Pacific/Pago_Pago';
  return { tz, today: dateIn(tz, at), utcToday: dateIn('UTC', at) };
}

/** `YYYY-MM-DD` `days` after the date `date` (negative: before). */
export function addDays(date, days) {
  const at = new Date(`${date}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
}
