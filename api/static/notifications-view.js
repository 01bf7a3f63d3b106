// The notifications bell: the unread count, kept live by the `notifications` topic, and a
// panel with the latest notifications and "Mark all read". The count is read over REST when
// the topic starts (and after every resume), then moved by each notification that arrives.

const $ = (id) => document.getElementById(id);
const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
// The panel lists this many; the count is exact up to the inbox's page size.
const LATEST = 20;
const COUNTED = 200;

export class Bell {
  #client;
  #unread = 0;
  #more = false;
  #items = [];

  constructor(client) {
    this.#client = client;
    $('bell').addEventListener('click', () => this.#toggle());
    $('bell-read-all').addEventListener('click', () => this.#readAll());
  }

  /** Reads the unread count and the latest notifications (the topic has just started). */
  async load() {
    try {
      const [unread, latest] = await Promise.all([
        this.#client.listNotifications({ unread: true, limit: COUNTED }),
        this.#client.listNotifications({ limit: LATEST }),
      ]);
      this.#unread = unread.items.length;
      this.#more = unread.next_cursor !== null;
      this.#items = latest.items;
      this.#show();
    } catch {
      // The next start of the topic tries again.
    }
  }

  /** One notification made just now. */
  add(notification) {
    if (this.#items.some((n) => n.id === notification.id)) return;
    this.#items = [notification, ...this.#items].slice(0, LATEST);
    if (notification.read_at === null) this.#unread += 1;
    this.#show();
  }

  /** Forgets what was shown (signed out). */
  reset() {
    this.#unread = 0;
    this.#more = false;
    this.#items = [];
    $('bell-panel').hidden = true;
    $('bell').setAttribute('aria-expanded', 'false');
    this.#show();
  }

  async #readAll() {
    try {
      await this.#client.markAllNotificationsRead();
      await this.load();
    } catch {
      // Left as it is: the count stays what the server says.
    }
  }

  #toggle() {
    const open = $('bell-panel').hidden;
    $('bell-panel').hidden = !open;
    $('bell').setAttribute('aria-expanded', String(open));
  }

  #show() {
    const count = `${this.#unread}${this.#more ? '+' : ''}`;
    $('bell-count').textContent = count;
    $('bell-count').hidden = this.#unread === 0;
    $('bell').setAttribute('aria-label', `Notifications, ${count} unread`);
    $('bell-list').replaceChildren(...this.#items.map((n) => row(n)));
    $('bell-empty').hidden = this.#items.length > 0;
  }
}

function row(notification) {
  const item = document.createElement('li');
  if (notification.read_at === null) item.dataset.unread = '';
  const time = document.createElement('time');
  time.dateTime = notification.at;
  time.textContent = when.format(new Date(notification.at));
  const text = document.createElement('span');
  text.textContent = notification.text;
  item.append(time, text);
  return item;
}
