// Compiled (never run) by types.test.js: the package's types describe its API over the
// generated OpenAPI types, the way a TypeScript user would write against them.

import { Client, LiveClient, ProblemError, type Task } from '@taskpulse/client';

async function example(): Promise<void> {
  const client = new Client({ baseUrl: 'http://127.0.0.1:8080' });
  await client.login({ email: 'ann@example.com', password: 'correct horse battery' });
  const task: Task = await client.createTask({ title: 'typed', priority: 'high' });
  const page = await client.listTasks({ scope: 'own', status: 'pending', limit: 10 });
  const first: string | undefined = page.items[0]?.title;
  for await (const each of client.all(client.listTasks, { scope: 'team' })) void each.status;
  const stats = await client.statistics({});
  const rate: number = stats.completion_rate;

  const live = new LiveClient(client);
  live.addEventListener('delta', (event) => {
    const version: number = event.detail.version;
    void version;
  });
  live.addEventListener('feed', (event) => void event.detail.entry.action);
  live.subscribe('user', { sinceVersion: 41 });

  try {
    await client.getTask(task.id);
  } catch (err) {
    if (err instanceof ProblemError && err.code === 'not_found') void err.errors.length;
  }
  void first;
  void rate;
}

void example;
