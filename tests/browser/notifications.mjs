// The `notifications` flow of the dashboard page, run by dashboard.mjs: another user shares a
// task with the signed-in one and the bell's unread count shows it live, without a reload; the
// panel lists it; "Mark all read" clears the count; axe-core with the panel open.

import { WITHIN, check, checkAccessibility, openDashboard, signInOnPage, step } from './helpers.mjs';

/** Registers a new account over REST; answers its access token. */
async function register(baseUrl, name) {
  const response = await fetch(`${baseUrl}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: `${name}-${Date.now()}@example.com`, password: 'correct horse battery', display_name: name }),
  });
  check(response.status === 201, `register answered ${response.status}`);
  return (await response.json()).access_token;
}

async function post(baseUrl, token, path, body) {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  check(response.status === 201, `POST ${path} answered ${response.status}`);
  return response.json();
}

export async function runNotifications({ context, baseUrl, email, password }) {
  const { page, problems } = await openDashboard(context, baseUrl);
  await signInOnPage(page, email, password);
  await page.getByRole('button', { name: 'Notifications, 0 unread' }).waitFor({ timeout: WITHIN });

  step('Someone shares a task: the bell counts it, live');
  const sharer = await register(baseUrl, 'Sharer');
  const task = await post(baseUrl, sharer, '/api/v1/tasks', { title: 'Bell test' });
  await post(baseUrl, sharer, `/api/v1/tasks/${task.id}/shares`, { email, permission: 'view' });
  await page.getByRole('button', { name: 'Notifications, 1 unread' }).waitFor({ timeout: WITHIN });
  check(await page.locator('#bell-count').isVisible(), 'the unread count is shown');

  step('The panel lists it');
  await page.getByRole('button', { name: 'Notifications, 1 unread' }).click();
  await page.locator('#bell-list li').filter({ hasText: 'Sharer shared “Bell test” with you' })
    .waitFor({ timeout: WITHIN });
  await checkAccessibility(page, 'light, notifications open');

  step('Mark all read: the count is gone');
  await page.getByRole('button', { name: 'Mark all read' }).click();
  await page.getByRole('button', { name: 'Notifications, 0 unread' }).waitFor({ timeout: WITHIN });
  check(!(await page.locator('#bell-count').isVisible()), 'no unread count once read');
  check(problems.length === 0, problems.join('\n'));
}
