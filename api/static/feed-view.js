// The live activity panel: audit entries (from the feed topic, and the audit log's recent
// ones), newest first, each as a sentence ("Ann completed “ship it”").

import { timeOfDay } from './view.js';

const SHOWN = 30;
const STATUS_WORDS = { pending: 'reopened', in_progress: 'started', completed: 'completed' };
const PHRASES = {
  'task.delete': 'deleted a task',
  'task.share': 'shared',
  'task.unshare': 'stopped sharing',
  'team.create': 'created the team',
  'team.delete': 'deleted the team',
  'team.member_add': 'added a member',
  'team.member_remove': 'removed a member',
  'team.member_role': 'changed a member’s role',
  'team.member_leave': 'left the team',
  'auth.register': 'created an account',
  'auth.login': 'signed in',
  'auth.login_failed': 'failed to sign in',
  'auth.refresh': 'renewed a session',
  'auth.refresh_reused': 'presented a used refresh token',
  'auth.logout': 'signed out',
  'user.create': 'created an account',
  'user.delete': 'deleted an account',
};

/** What an entry says after the actor's name; `title` is the task's, when known. */
function sentence(entry, title) {
  const task = title ? `“${title}”` : 'a task';
  switch (entry.action) {
    case 'task.create':
      return `created ${task}`;
    case 'task.update': {
      const changed = entry.details?.changed ?? [];
      if (changed.includes('status')) return `${STATUS_WORDS[entry.details.status] ?? 'changed'} ${task}`;
      const fields = changed.map((field) => field.replace('_at', ' date').replace('_', ' '));
      return `edited ${task}${fields.length ? ` (${fields.join(', ')})` : ''}`;
    }
    case 'task.share':
    case 'task.unshare':
      return `${PHRASES[entry.action]} ${task}`;
    case 'task.import': {
      const count = entry.details?.count;
      return typeof count === 'number' ? `imported ${count} task${count === 1 ? '' : 's'}` : 'imported tasks';
    }
    default:
      return PHRASES[entry.action] ?? entry.action;
  }
}

export class FeedPanel {
  #list;
  #empty;
  #entries = new Map(); // id -> entry
  #names = new Map(); // user id -> display name
  #titles = new Map(); // task id -> title
  #lookUpTitle;

  /** `lookUpTitle(taskId)` answers a task's title (or null) for entries that do not carry it. */
  constructor(list, empty, lookUpTitle) {
    this.#list = list;
    this.#empty = empty;
    this.#lookUpTitle = lookUpTitle;
  }

  /** Empties the panel (another scope). */
  reset() {
    this.#entries.clear();
    this.#render();
  }

  /** Who is who: user id -> display name. */
  setNames(names) {
    for (const [id, name] of names) this.#names.set(id, name);
    this.#render();
  }

  /** Adds entries (repeats are ignored) and shows the newest. */
  add(entries) {
    for (const entry of entries) {
      this.#entries.set(entry.id, entry);
      if (entry.target_type === 'task' && typeof entry.details?.title === 'string') {
        this.#titles.set(entry.target_id, entry.details.title);
      }
    }
    this.#render();
    this.#fillTitles();
  }

  #newest() {
    return [...this.#entries.values()]
      .sort((a, b) => b.at.localeCompare(a.at) || b.id.localeCompare(a.id))
      .slice(0, SHOWN);
  }

  async #fillTitles() {
    const missing = this.#newest()
      // An import's entry names no one task (target_id null): there is no title to look up.
      .filter((e) => e.target_type === 'task' && e.target_id && e.action !== 'task.delete'
        && !this.#titles.has(e.target_id))
      .map((e) => e.target_id);
    for (const id of new Set(missing)) {
      this.#titles.set(id, null); // once
      const title = await this.#lookUpTitle(id).catch(() => null);
      if (title) {
        this.#titles.set(id, title);
        this.#render();
      }
    }
  }

  #render() {
    const items = this.#newest().map((entry) => {
      const item = document.createElement('li');
      item.dataset.entryId = entry.id;
      item.dataset.action = entry.action;
      if (entry.target_id) item.dataset.targetId = entry.target_id;
      const at = document.createElement('time');
      at.dateTime = entry.at;
      at.textContent = timeOfDay(new Date(entry.at));
      const who = this.#names.get(entry.actor_id) ?? 'Someone';
      const text = document.createElement('span');
      text.textContent = `${who} ${sentence(entry, this.#titles.get(entry.target_id))}`;
      item.append(at, text);
      return item;
    });
    // Only when something changed, so the log announces new entries and nothing else.
    const ids = items.map((item) => item.dataset.entryId + item.textContent).join();
    if (ids !== this.#list.dataset.shown) {
      this.#list.replaceChildren(...items);
      this.#list.dataset.shown = ids;
    }
    this.#empty.hidden = items.length > 0;
  }
}
