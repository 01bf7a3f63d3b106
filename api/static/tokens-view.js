// Personal access tokens: create one (its secret shown once, here, until the page moves on),
// list the caller's with when each was last used, and revoke one. A page signed in with a
// personal access token is refused creation by the server (insufficient_scope) and says so.

import { ProblemError } from './client/index.js';

const $ = (id) => document.getElementById(id);
const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const at = (text, none) => (text ? when.format(new Date(text)) : none);

export class TokensPanel {
  #client;

  constructor(client) {
    this.#client = client;
    $('pat-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.#create();
    });
  }

  /** Reads the list again (signed in, or after a change). */
  async load() {
    try {
      const page = await this.#client.listTokens({ limit: 200 });
      $('pat-rows').replaceChildren(...page.items.map((token) => this.#row(token)));
      $('pat-empty').hidden = page.items.length > 0;
      $('pat-table').hidden = page.items.length === 0;
    } catch (err) {
      this.#say(`Could not list your tokens: ${err.message}`);
    }
  }

  /** Forgets what was shown (signed out): a secret never outlives its moment. */
  reset() {
    this.#showSecret(null);
    this.#say('');
    $('pat-rows').replaceChildren();
  }

  async #create() {
    const days = $('pat-days').value.trim();
    const body = {
      name: $('pat-name').value,
      scopes: $('pat-scope').value === 'write' ? ['read', 'write'] : ['read'],
      ...(days ? { expires_in_days: Number(days) } : {}),
    };
    $('pat-create').disabled = true;
    this.#showSecret(null);
    try {
      const created = await this.#client.createToken(body);
      $('pat-form').reset();
      this.#showSecret(created);
      this.#say('');
      await this.load();
    } catch (err) {
      const fields = err instanceof ProblemError && err.errors.length > 0
        ? err.errors.map((e) => `${e.field} ${e.message}`).join('; ')
        : err.message;
      this.#say(`Could not create the token: ${fields}`);
    } finally {
      $('pat-create').disabled = false;
    }
  }

  async #revoke(token, button) {
    button.disabled = true;
    try {
      await this.#client.revokeToken(token.id);
      this.#say(`Revoked “${token.name}”: it no longer works anywhere.`);
      await this.load();
    } catch (err) {
      button.disabled = false;
      this.#say(`Could not revoke “${token.name}”: ${err.message}`);
    }
  }

  #row(token) {
    const row = document.createElement('tr');
    const cells = [
      token.name,
      token.scopes.join(' + '),
      at(token.created_at, ''),
      at(token.expires_at, 'never'),
      at(token.last_used_at, 'never'),
    ];
    for (const text of cells) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    const action = document.createElement('td');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary';
    button.textContent = 'Revoke';
    button.setAttribute('aria-label', `Revoke ${token.name}`);
    button.addEventListener('click', () => this.#revoke(token, button));
    action.append(button);
    row.append(action);
    return row;
  }

  /** The secret of the token just created, or nothing. */
  #showSecret(created) {
    $('pat-secret').hidden = created === null;
    $('pat-secret-value').value = created ? created.token : '';
    if (created) $('pat-secret-value').select();
  }

  #say(text) {
    if ($('pat-status').textContent !== text) $('pat-status').textContent = text;
  }
}
