// Tasks to a file and back against a real server: the export as a Response to read or save
// (CSV or NDJSON, the list filters applied), the import of a CSV or NDJSON string or Blob with
// past dates, and a refused file as a ProblemError whose errors carry their lines.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProblemError, importFormatOf } from '../src/index.js';
import { newUser } from './helpers.js';

const HEADER = 'id,title,description,status,priority,due_at,owner_id,team_id,created_at,started_at,completed_at,version';

test('an export is a Response to read: CSV with the filters applied, or NDJSON', async (t) => {
  const { client } = await newUser(t);
  const open = await client.createTask({ title: 'open', description: '=1+1' });
  await client.createTask({ title: 'done', status: 'completed' });

  const response = await client.exportTasks({ scope: 'own', status: 'pending' });
  const csv = (await response.text()).trimEnd().split('\r\n');
  const ndjson = await (await client.exportTasks({ scope: 'own', format: 'ndjson' })).blob();

  assert.match(response.headers.get('content-type'), /^text\/csv/);
  assert.match(response.headers.get('content-disposition'), /^attachment/);
  assert.deepEqual(csv.slice(0, 1), [HEADER]);
  assert.equal(csv.length, 2, csv.join('\n'));
  assert.ok(csv[1].startsWith(`${open.id},open,'=1+1,pending,`), csv[1]);
  const tasks = (await ndjson.text()).trimEnd().split('\n').map((line) => JSON.parse(line));
  assert.deepEqual(tasks.map((task) => task.title).sort(), ['done', 'open']);
});

test('an import of CSV or NDJSON answers how many, with their past dates kept', async (t) => {
  const { client } = await newUser(t);
  const csv = [
    HEADER,
    ',from elsewhere,,completed,high,,,,2026-01-05T09:00:00+01:00,2026-01-05T10:00:00+01:00,2026-01-06T09:00:00+01:00,',
  ].join('\r\n');
  const ndjson = new Blob([`${JSON.stringify({ title: 'one more', created_at: '2026-02-01T08:00:00Z' })}\n`]);

  const fromCsv = await client.importTasks(csv);
  const fromNdjson = await client.importTasks(ndjson, { format: 'ndjson' });
  const page = await client.listTasks({ scope: 'own' });

  assert.deepEqual([fromCsv, fromNdjson], [{ imported: 1 }, { imported: 1 }]);
  const moved = page.items.find((task) => task.title === 'from elsewhere');
  assert.equal(Date.parse(moved.created_at), Date.parse('2026-01-05T08:00:00Z'));
  assert.equal(Date.parse(moved.completed_at), Date.parse('2026-01-06T08:00:00Z'));
  assert.equal(moved.priority, 'high');
  assert.ok(page.items.some((task) => task.title === 'one more'));
});

test('a refused import is a ProblemError whose errors name their lines, and nothing is imported', async (t) => {
  const { client } = await newUser(t);
  const file = [HEADER, ',fine,,pending,,,,,,,,', ',,,pending,,,,,,,,', ',late,,done,,,,,,,,'].join('\r\n');

  const error = await client.importTasks(file, { format: 'csv' }).catch((err) => err);
  const page = await client.listTasks({ scope: 'own' });

  assert.ok(error instanceof ProblemError, `${error}`);
  assert.equal(error.status, 422);
  assert.equal(error.code, 'validation_failed');
  assert.deepEqual(error.errors.map((e) => [e.line, e.field]), [[3, 'title'], [4, 'status']]);
  assert.ok(error.errors.every((e) => typeof e.message === 'string' && e.message.length > 0));
  assert.deepEqual(page.items, []);
});

test('the format of a file to import comes from its name or type', () => {
  const named = (name, type = '') => Object.assign(new Blob([''], { type }), { name });

  assert.equal(importFormatOf(named('tasks.ndjson')), 'ndjson');
  assert.equal(importFormatOf(named('TASKS.JSONL')), 'ndjson');
  assert.equal(importFormatOf(named('tasks.csv')), 'csv');
  assert.equal(importFormatOf(named('export', 'application/x-ndjson')), 'ndjson');
  assert.equal(importFormatOf('id,title'), 'csv');
});
