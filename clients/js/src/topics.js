// Where the live client is in each topic it follows: a dashboard topic's last applied version,
// a feed topic's last entry, and whether the current socket has made it live yet.

// Feed entries replayed after a resume may repeat ones already seen: remember this many ids.
const SEEN_ENTRIES = 512;

export const isFeed = (topic) => topic.startsWith('feed:');

export class TopicState {
  /** The last version applied (dashboard topics); null before a snapshot. */
  version;
  /** The id of the last entry seen (feed topics). */
  lastEntry;
  /** Subscribed on the current socket, but not yet live there. */
  waiting = true;
  #topic;
  #seen = new Set();

  constructor(topic, { sinceVersion = null, since = null } = {}) {
    this.#topic = topic;
    this.version = sinceVersion;
    this.lastEntry = since;
  }

  /** The `subscribe` message that resumes from here. */
  subscribeMessage() {
    const message = { type: 'subscribe', topic: this.#topic };
    if (isFeed(this.#topic)) {
      if (this.lastEntry !== null) message.since = this.lastEntry;
    } else if (this.version !== null) {
      message.since_version = this.version;
    }
    return message;
  }

  /**
   * A delta's fate: `apply` (the next version: taken), `ignore` (already applied, or a
   * snapshot is on its way) or `gap` (versions were missed: subscribe again).
   */
  takeDelta(version) {
    if (this.version === null || version <= this.version) return 'ignore';
    if (version !== this.version + 1) return 'gap';
    this.version = version;
    return 'apply';
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
