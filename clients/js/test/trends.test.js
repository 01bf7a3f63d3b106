// History over REST against a real server: trends in a zone's calendar (JSON and CSV), the
// activity in a zone, and a refused zone as a ProblemError on `tz`.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProblemError } from '../src/index.js';
import { addDays, newUser, zoneAwayFromUtc } from './helpers.js';

test('trends count in the buckets of the zone, interval and days asked for', async (t) => {
  const { client } = await newUser(t);
  const { tz, today } = zoneAwayFromUtc();
  const task = await client.createTask({ title: 'counted' });
  await client.updateTask(task.id, { status: 'in_progress' });
  await client.updateTask(task.id, { status: 'completed' });

  const trends = await client.trends({ tz, interval: 'day', from: addDays(today, -2), to: today });

  assert.equal(trends.tz, tz);
  assert.equal(trends.interval, 'day');
  assert.equal(trends.scope, 'user');
  assert.deepEqual(trends.buckets.map((b) => b.start), [addDays(today, -2), addDays(today, -1), today]);
  const last = trends.buckets[2];
  assert.deepEqual([last.created, last.started, last.completed, last.open_at_end], [1, 1, 1, 0]);
  assert.equal(last.lead_time_hours.count, 1);
  assert.equal(last.cycle_time_hours.count, 1);
  assert.equal(trends.buckets[0].lead_time_hours, null);
});

test('trends as CSV are text, one line per bucket after the header', async (t) => {
  const { client } = await newUser(t);
  await client.createTask({ title: 'in a month' });

  const csv = await client.trends({ format: 'csv', interval: 'month', tz: 'Europe/Berlin' });

  assert.equal(typeof csv, 'string');
  const lines = csv.trimEnd().split(/\r\n/);
  assert.match(lines[0], /^start,end,created,started,completed,open_at_end,in_progress_at_end,/);
  assert.equal(lines.length, 1 + 12);
  assert.match(lines[12], /^\d{4}-\d{2}-01,\d{4}-\d{2}-\d{2},1,0,0,1,0,/);
});

test('activity counts the days of the zone asked for', async (t) => {
  const { client } = await newUser(t);
  const { tz, today, utcToday } = zoneAwayFromUtc();
  await client.createTask({ title: 'today, somewhere' });

  const zoned = await client.activity({ days: 1, tz });
  const utc = await client.activity({ days: 1 });

  assert.notEqual(today, utcToday, 'the zone was chosen to be on another day than UTC');
  assert.deepEqual(zoned.days, [{ date: today, created: 1, completed: 0 }]);
  assert.deepEqual(utc.days, [{ date: utcToday, created: 1, completed: 0 }]);
});

test('an unknown zone is a ProblemError naming tz, for trends as for activity', async (t) => {
  const { client } = await newUser(t);

  const trends = await client.trends({ tz: 'Mars/Olympus_Mons' }).catch((err) => err);
  const csv = await client.trends({ tz: 'Mars/Olympus_Mons', format: 'csv' }).catch((err) => err);
  const activity = await client.activity({ tz: 'Mars/Olympus_Mons' }).catch((err) => err);

  for (const error of [trends, csv, activity]) {
    assert.ok(error instanceof ProblemError, `${error}`);
    assert.equal(error.status, 422);
    assert.equal(error.code, 'validation_failed');
    assert.deepEqual(error.errors.map((e) => e.field), ['tz']);
  }
});
