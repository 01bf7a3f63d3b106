// Export and Import: the tasks of the scope shown saved as a CSV file (fetched with the bearer
// token, then handed to the browser as a download), and a CSV or NDJSON file imported into it,
// with "imported N" or the file's errors line by line.

import { ProblemError } from './client/index.js';

const $ = (id) => document.getElementById(id);
const count = new Intl.NumberFormat();

/** `YYYY-MM-DD` today, here: for the saved file's name. */
function today() {
  const at = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
}

/** Hands `blob` to the browser as a download named `name`. */
function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken its copy once the click is handled.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** One line per error: `Line 3, status: must be pending, in_progress or completed`. */
function errorItem(error) {
  const item = document.createElement('li');
  const where = [error.line ? `Line ${error.line}` : null, error.field || null].filter(Boolean).join(', ');
  item.textContent = where ? `${where}: ${error.message}` : error.message;
  if (error.line) item.dataset.line = String(error.line);
  return item;
}

export class TransferPanel {
  #client;
  #scope;

  /**
   * `scope()` answers what is shown: `{ teamId, name }` (teamId null for the caller's own
   * tasks; name as the switcher says it).
   */
  constructor(client, scope) {
    this.#client = client;
    this.#scope = scope;
    $('export-csv').addEventListener('click', () => this.#export());
    $('import-button').addEventListener('click', () => $('import-file').click());
    $('import-file').addEventListener('change', (event) => {
      const [file] = event.target.files;
      event.target.value = ''; // the same file can be chosen again
      if (file) this.#import(file);
    });
  }

  /** Forgets the last outcome (another scope, or signed out). */
  reset() {
    this.#say('');
    this.#showErrors(null);
  }

  async #export() {
    const { teamId, name } = this.#scope();
    this.#busy(true);
    this.#showErrors(null);
    this.#say(`Exporting ${name}…`);
    try {
      const query = teamId ? { scope: 'team', team_id: teamId, format: 'csv' } : { scope: 'own', format: 'csv' };
      const blob = await (await this.#client.exportTasks(query)).blob();
      save(blob, `taskpulse-${teamId ? 'team' : 'my'}-tasks-${today()}.csv`);
      this.#say(`Exported ${name} as CSV.`);
    } catch (err) {
      this.#say(`Could not export: ${err.message}`);
    } finally {
      this.#busy(false);
    }
  }

  async #import(file) {
    const { teamId, name } = this.#scope();
    this.#busy(true);
    this.#showErrors(null);
    this.#say(`Importing ${file.name}…`);
    try {
      // CSV or NDJSON by the file's name (the client's importFormatOf).
      const { imported } = await this.#client.importTasks(file, { teamId: teamId ?? undefined });
      this.#say(`Imported ${count.format(imported)} task${imported === 1 ? '' : 's'} into ${name}.`);
    } catch (err) {
      const lines = err instanceof ProblemError && err.status === 422 && err.errors.length > 0;
      this.#say(lines ? '' : `Could not import ${file.name}: ${err.message}`);
      if (lines) this.#showErrors(file.name, err.errors);
    } finally {
      this.#busy(false);
    }
  }

  #busy(busy) {
    $('export-csv').disabled = busy;
    $('import-button').disabled = busy;
  }

  #say(text) {
    if ($('transfer-status').textContent !== text) $('transfer-status').textContent = text;
  }

  /** The errors of a refused file (nothing was imported), or none. */
  #showErrors(fileName, errors = []) {
    $('import-errors').hidden = fileName === null;
    $('import-errors-title').textContent = fileName === null ? ''
      : `Nothing was imported: ${fileName} has ${errors.length === 1 ? 'a problem' : `${count.format(errors.length)} problems`}.`;
    $('import-error-list').replaceChildren(...errors.map(errorItem));
  }
}
