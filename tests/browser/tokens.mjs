// The `tokens` flow of the dashboard page, run by dashboard.mjs: the Tokens panel creates a
// read token and shows it once, the token reads over REST and is refused a write (403
// insufficient_scope), the list shows it, Revoke makes it 401 at once and empties the list;
// a bad lifetime is reported; axe-core with the secret shown.

import { WITHIN, check, checkAccessibility, openDashboard, signInOnPage, step } from './helpers.mjs';

/** The page's errors, but for the answers this flow provokes on purpose (Chromium logs each). */
const unexpected = (problems) => problems.filter((problem) => !/status of 422/.test(problem));

export async function runTokens({ context, baseUrl, email, password }) {
  const { page, problems } = await openDashboard(context, baseUrl);
  await signInOnPage(page, email, password);
  await page.getByText('No tokens yet.').waitFor({ timeout: WITHIN });

  step('Create a read token: shown once, prefixed tp_pat_');
  await page.getByLabel('Name', { exact: true }).fill('browser script');
  await page.getByLabel('Expires after (days, empty for never)').fill('30');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = page.locator('#pat-secret-value');
  await secret.waitFor({ state: 'visible', timeout: WITHIN });
  const token = await secret.inputValue();
  check(token.startsWith('tp_pat_'), `the page shows ${token}`);
  await page.locator('#pat-rows tr').filter({ hasText: 'browser script' }).waitFor({ timeout: WITHIN });
  await checkAccessibility(page, 'light, a token shown');

  step('The token reads and is refused a write');
  const me = await fetch(`${baseUrl}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
  check(me.status === 200, `GET /me with the token answered ${me.status}`);
  const write = await fetch(`${baseUrl}/api/v1/tasks`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'not with a read token' }),
  });
  check(write.status === 403 && (await write.json()).code === 'insufficient_scope', `a write answered ${write.status}`);

  step('A lifetime out of range is reported');
  await page.getByLabel('Name', { exact: true }).fill('too long lived');
  await page.getByLabel('Expires after (days, empty for never)').evaluate((input) => { input.value = '400'; input.removeAttribute('max'); });
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.waitForFunction(() => /expires_in_days/.test(document.getElementById('pat-status').textContent),
    null, { timeout: WITHIN });

  step('Revoke: the token is 401 at once and the list is empty');
  await page.getByRole('button', { name: 'Revoke browser script' }).click();
  await page.getByText('No tokens yet.').waitFor({ timeout: WITHIN });
  const after = await fetch(`${baseUrl}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
  check(after.status === 401, `GET /me with the revoked token answered ${after.status}`);
  check(unexpected(problems).length === 0, unexpected(problems).join('\n'));
}
