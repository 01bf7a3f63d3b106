// Compiled (never run) by types.test.js: the package's types describe its API over the
// generated OpenAPI types, the way a TypeScript user would write against them.

import {
  Client, LiveClient, ProblemError, importFormatOf, type ImportError, type Task, type Trends, type TrendsBucket,
} from '@taskpulse/client';

async function example(): Promise<void> {
  const client = new Client({ baseUrl: 'http://127.0.0.1:8080' });
  await client.login({ email: 'ann@example.com', password: 'correct horse battery' });
  const task: Task = await client.createTask({ title: 'typed', priority: 'high' });
  const page = await client.listTasks({ scope: 'own', status: 'pending', limit: 10 });
  const first: string | undefined = page.items[0]?.title;
  for await (const each of client.all(client.listTasks, { scope: 'team' })) void each.status;
  const stats = await client.statistics({});
  const rate: number = stats.completion_rate;

  const activity = await client.activity({ days: 7, tz: 'Europe/Berlin' });
  void activity.days[0]?.date;
  const trends: Trends = await client.trends({ tz: 'Asia/Kathmandu', interval: 'week', from: '2026-09-01' });
  const first_bucket: TrendsBucket | undefined = trends.buckets[0];
  const p85: number | undefined = first_bucket?.lead_time_hours?.p85;
  const csv: string = await client.trends({ format: 'csv', interval: 'month' });
  const exported: Blob = await (await client.exportTasks({ scope: 'own', format: 'ndjson' })).blob();
  try {
    const { imported }: { imported: number } = await client.importTasks(exported, { format: importFormatOf(exported) });
    void imported;
  } catch (err) {
    if (err instanceof ProblemError) for (const e of err.errors) void (e.line satisfies ImportError['line'] | undefined);
  }

  const live = new LiveClient(client);
  live.subscribe('trends:user', { tz: 'Europe/Berlin', interval: 'month', from: '2026-01-01' });
  live.subscribe('user', { tz: 'Europe/Berlin' });
  live.addEventListener('snapshot', (event) => {
    if ('trends' in event.detail) void event.detail.trends.buckets.length;
    else void event.detail.activity.days;
  });
  live.addEventListener('delta', (event) => {
    if ('buckets' in event.detail) void event.detail.trends.buckets.map((b) => b.open_at_end);
    else void event.detail.stats.total;
  });
  live.addEventListener('subscribed', (event) => void event.detail.version);
  const held: Trends | null = live.trends('trends:user');
  live.addEventListener('delta', (event) => {
    const version: number = event.detail.version;
    void version;
  });
  live.addEventListener('feed', (event) => void event.detail.entry.action);
  live.addEventListener('authenticated', (event) => void Date.parse(event.detail.expires_at));
  live.addEventListener('error', (event) => void (event.detail.topic ?? event.detail.code));
  live.subscribe('user', { sinceVersion: 41 });

  try {
    await client.getTask(task.id);
  } catch (err) {
    if (err instanceof ProblemError && err.code === 'not_found') void err.errors.length;
  }
  void first;
  void rate;
  void p85;
  void csv;
  void held;
}

void example;
