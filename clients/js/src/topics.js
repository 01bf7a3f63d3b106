// Where the live client is in each topic it follows: a dashboard topic's last applied version,
// a feed topic's last entry, a trends topic's buckets, the options it subscribes with, and
// whether the current socket has made it live yet.

// Feed entries replayed after a resume may repeat ones already seen: remember this many ids.
const SEEN_ENTRIES = 512;

// Topics that resume with `since` (an item's id) rather than a version: the feeds, and the
// caller's notifications.
export const isFeed = (topic) => topic.startsWith('feed:') || topic === 'notifications';
export const isTrends = (topic) => topic.startsWith('trends:');

/**
 * The subscribe options a topic takes: `tz` for the aggregate and trends topics, `interval`
 * and `from` for trends topics only (the server refuses the others as unknown fields).
 */
function subscribeOptions(topic, { tz = null, interval = null, from = null }) {
  const options = {};
  if (tz !== null) {
    if (isFeed(topic)) throw new TypeError(`${topic}: a feed topic takes no tz`);
    options.tz = tz;
  }
  for (const [name, value] of [['interval', interval], ['from', from]]) {
    if (value === null) continue;
    if (!isTrends(topic)) throw new TypeError(`${topic}: only trends topics take ${name}`);
    options[name] = value;
  }
  return options;
}

/** Puts each of `moved` in `buckets` (oldest first) in place of the one with its `start`. */
export function replaceBuckets(buckets, moved) {
  const next = [...buckets];
  for (const bucket of moved) {
    const at = next.findIndex((b) => b.start >= bucket.start);
    if (at === -1) next.push(bucket);
    else if (next[at].start === bucket.start) next[at] = bucket;
    else next.splice(at, 0, bucket); // the clock entered a new interval
  }
  return next;
}

export class TopicState {
  /** The last version applied (dashboard and trends topics); null before a snapshot. */
  version;
  /** The id of the last entry seen (feed topics). */
  lastEntry;
  /** A trends topic's trends, its deltas applied; null before its snapshot. */
  trends = null;
  /** Subscribed on the current socket, but not yet live there. */
  waiting = true;
  #topic;
  #options;
  #seen = new Set();

  constructor(topic, { sinceVersion = null, since = null, tz = null, interval = null, from = null } = {}) {
    this.#topic = topic;
    this.#options = subscribeOptions(topic, { tz, interval, from });
    this.version = sinceVersion;
    this.lastEntry = since;
  }

  /** The `subscribe` message that resumes from here. */
  subscribeMessage() {
    const message = { type: 'subscribe', topic: this.#topic, ...this.#options };
    if (isFeed(this.#topic)) {
      if (this.lastEntry !== null) message.since = this.lastEntry;
    } else if (this.version !== null) {
      message.since_version = this.version;
    }
    return message;
  }

  /** Takes a snapshot: its version, and a trends topic's trends. */
  takeSnapshot(message) {
    this.version = message.version;
    if (message.trends) this.trends = { ...message.trends, buckets: [...message.trends.buckets] };
  }

  /**
   * A delta's fate: `apply` (the next version: taken, and a trends delta's buckets put in
   * place), `ignore` (already applied, or a snapshot is on its way) or `gap` (versions were
   * missed: subscribe again).
   */
  takeDelta(message) {
    const { version } = message;
    if (this.version === null || version <= this.version) return 'ignore';
    if (version !== this.version + 1) return 'gap';
    this.version = version;
    if (this.trends && Array.isArray(message.buckets)) {
      this.trends = { ...this.trends, version, buckets: replaceBuckets(this.trends.buckets, message.buckets) };
    }
    return 'apply';
  }

  /**
   * A `subscribed` message's fate: `live` (the topic is flowing: a feed's start, or a resume
   * that brought it to the version it names) or `gap` (the resume ended past what was
   * applied: subscribe again).
   */
  takeSubscribed(message) {
    if (typeof message.version !== 'number' || this.version === null) return 'live';
    return message.version > this.version ? 'gap' : 'live';
  }

  /** Forgets the position: the next subscription starts from a snapshot, a feed from now. */
  forget() {
    this.version = null;
    this.lastEntry = null;
    this.trends = null;
    this.#seen.clear();
  }

  /** True for an entry not seen before (then remembered as the last one). */
  takeEntry(entry) {
    if (this.#seen.has(entry.id)) return false;
    this.#seen.add(entry.id);
    if (this.#seen.size > SEEN_ENTRIES) this.#seen.delete(this.#seen.values().next().value);
    this.lastEntry = entry.id;
    return true;
  }
}
