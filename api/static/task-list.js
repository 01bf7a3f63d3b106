// The drill-down under the cards: the tasks behind a number (Pending, Overdue, …), read over
// REST a page at a time.

const PAGE = 20;
// Overdue is not a filter of GET /tasks: pages of the scope are read and filtered here.
const OVERDUE_SCAN_PAGE = 100;
const LABELS = {
  total: 'All tasks', pending: 'Pending tasks', in_progress: 'Tasks in progress',
  completed: 'Completed tasks', overdue: 'Overdue tasks', shared: 'Shared tasks',
};
const STATUS_TEXT = { pending: 'pending', in_progress: 'in progress', completed: 'completed' };

const $ = (id) => document.getElementById(id);
const dueFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

function taskItem(task, note) {
  const item = document.createElement('li');
  item.dataset.taskId = task.id ?? task.task_id;
  const title = document.createElement('span');
  title.className = 'task-title';
  title.textContent = task.title;
  const meta = document.createElement('span');
  meta.className = 'task-meta';
  const parts = [STATUS_TEXT[task.status] ?? task.status];
  if (task.priority) parts.push(`${task.priority} priority`);
  if (task.due_at) parts.push(`due ${dueFormat.format(new Date(task.due_at))}`);
  if (note) parts.push(note);
  meta.textContent = parts.join(' · ');
  item.append(title, meta);
  return item;
}

const isOverdue = (task, now) => task.status !== 'completed' && task.due_at && Date.parse(task.due_at) < now;

export class TaskList {
  #client;
  #kind = null;
  #topic = null;
  #cursor = null;
  #loading = 0; // which open() the answers belong to

  constructor(client) {
    this.#client = client;
    $('task-list-close').addEventListener('click', () => this.close());
    $('task-list-more').addEventListener('click', () => this.#load(this.#loading));
  }

  get kind() { return this.#kind; }

  /** Lists the tasks behind a card for `topic` (`user` or `team:<id>`). */
  open(kind, topic, { focus = false } = {}) {
    const again = kind === this.#kind && topic === this.#topic;
    this.#kind = kind;
    this.#topic = topic;
    this.#cursor = null;
    this.#loading += 1;
    $('task-list').hidden = false;
    $('task-list-title').textContent = LABELS[kind];
    // The same list read again stays in view until its new first page replaces it.
    if (!again) $('task-list-items').replaceChildren();
    for (const card of document.querySelectorAll('.card')) {
      card.setAttribute('aria-expanded', String(card.dataset.list === kind));
    }
    if (focus) $('task-list-title').focus();
    return this.#load(this.#loading);
  }

  close() {
    this.#kind = null;
    this.#topic = null;
    this.#loading += 1;
    $('task-list').hidden = true;
    for (const card of document.querySelectorAll('.card')) card.setAttribute('aria-expanded', 'false');
  }

  /** Reads again from the first page (the numbers changed). */
  refresh() {
    if (this.#kind) this.open(this.#kind, this.#topic);
  }

  async #load(generation) {
    const more = $('task-list-more');
    more.hidden = true;
    $('task-list-status').textContent = 'Loading…';
    const first = this.#cursor === null;
    try {
      const items = this.#kind === 'shared' ? await this.#shared() : await this.#page();
      if (generation !== this.#loading) return;
      if (first) $('task-list-items').replaceChildren(...items);
      else $('task-list-items').append(...items);
      const shown = $('task-list-items').children.length;
      more.hidden = this.#cursor === null;
      $('task-list-status').textContent = shown === 0 ? 'No tasks.' : `${shown} shown${this.#cursor ? '' : ', all of them'}.`;
    } catch (err) {
      if (generation === this.#loading) $('task-list-status').textContent = `Could not load the tasks: ${err.message}`;
    }
  }

  /** The next page of the card's tasks. */
  async #page() {
    const team = this.#topic.startsWith('team:') ? this.#topic.slice(5) : null;
    const query = team ? { scope: 'team', team_id: team } : { scope: 'own' };
    if (['pending', 'in_progress', 'completed'].includes(this.#kind)) query.status = this.#kind;
    if (this.#kind !== 'overdue') {
      const page = await this.#client.listTasks({ ...query, limit: PAGE, cursor: this.#cursor });
      this.#cursor = page.next_cursor;
      return page.items.map((task) => taskItem(task));
    }
    const now = Date.now();
    const found = [];
    do {
      const page = await this.#client.listTasks({ ...query, limit: OVERDUE_SCAN_PAGE, cursor: this.#cursor });
      this.#cursor = page.next_cursor;
      found.push(...page.items.filter((task) => isOverdue(task, now)));
    } while (this.#cursor && found.length < PAGE);
    return found.map((task) => taskItem(task));
  }

  /** GET /dashboard/shared: both directions, in one go. */
  async #shared() {
    const shared = await this.#client.shared();
    this.#cursor = null;
    return [
      ...shared.shared_with_me.map((task) => taskItem(task, `shared with me (${task.permission})`)),
      ...shared.shared_by_me.map((task) => taskItem(task, `shared by me with ${task.shared_with.length}`)),
    ];
  }
}
