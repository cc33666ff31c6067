import { freePort, HttpsReceiver, TEST_ADMIN_TOKEN, waitFor } from '@posthooks/testing';
import { Browser, Locator, Page } from 'playwright-core';
import { ConsolePage, launchChromium } from './support/browser';
import { Stack } from './support/stack';
import http from 'node:http';

/** A GET whose path goes out byte for byte (no dot-segment resolution, no re-encoding). */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    http
      .get({ hostname, port, path }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/**
 * The console (SPEC §11, issue 18) in a real Chromium (Debian's, headless, driven by
 * playwright-core) against all five services as processes. Every test fails on any
 * console message of level error or uncaught page error, and each main view is saved as
 * a screenshot under test-output/console/.
 */
describe('the console, in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let ok: HttpsReceiver;
  let failing: HttpsReceiver;
  let pages: ConsolePage[] = [];
  let base: string;

  beforeAll(async () => {
    // The registry proxies to the others, so their ports are chosen before it starts.
    const [dispatcherPort, gatewayPort, loaderPort] = [await freePort(), await freePort(), await freePort()];
    // One at a time, each kept as soon as it exists, so afterAll stops whatever started.
    browser = await launchChromium();
    ok = await HttpsReceiver.start();
    failing = await HttpsReceiver.start({ react: () => ({ status: 500, body: 'down for maintenance' }) });
    stack = await Stack.start('e2e_console', {
      'hook-registry': {
        DISPATCHER_URL: `http://127.0.0.1:${dispatcherPort}`,
        INGEST_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
        LOAD_SIMULATOR_URL: `http://127.0.0.1:${loaderPort}`,
      },
      dispatcher: { PORT: String(dispatcherPort), DELIVERY_RETRY_SCHEDULE: '100ms,100ms,100ms,100ms,100ms', DELIVERY_TIMEOUT_MS: '3000' },
      'ingest-gateway': { PORT: String(gatewayPort) },
      'load-simulator': { PORT: String(loaderPort), LOAD_INTERVAL_MS: '200' },
    });
    base = stack.get('hook-registry').url;
  }, 120_000);

  afterEach(async () => {
    const errors = pages.flatMap((p) => p.errors);
    await Promise.all(pages.map((p) => p.close()));
    pages = [];
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await Promise.all([ok?.close(), failing?.close()]);
  });

  const open = async (options?: { width?: number; height?: number }) => {
    const p = await ConsolePage.open(browser, options);
    pages.push(p);
    return p;
  };

  /** Signs in on the sign-in form as a user would, and waits for the console. */
  const signIn = async (page: Page, key: string, hash = '') => {
    await page.goto(`${base}/console/${hash}`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  };

  /** An account every service already knows (its key works on the dispatcher, gateway and loader too). */
  const account = async (plan = 'advanced') => {
    const acc = await stack.account(plan);
    await stack.registryApplied('dispatcher', 'ingest-gateway', 'load-simulator');
    return acc;
  };

  const hookRow = (page: Page, url: string): Locator => page.getByRole('row').filter({ hasText: url });

  it('signs in with an API key kept in session storage, says when a key is wrong, and signs out', async () => {
    const acc = await account();
    const tab = await open();
    const { page, requestedUrls } = tab;

    const root = await fetch(`${base}/`, { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([302, '/console/']);
    const favicon = await fetch(`${base}/favicon.ico`);
    expect([favicon.status, favicon.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);

    await page.goto(`${base}/`);
    expect(page.url()).toBe(`${base}/console/`);
    await expect(page.getByLabel('API key').getAttribute('type')).resolves.toBe('password');
    await page.getByLabel('API key').fill('phk_not-a-key-of-anyone');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'This API key is not valid.' }).waitFor();
    await tab.screenshot('sign-in');

    await page.getByLabel('API key').fill(acc.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(`account ${acc.id}`).waitFor();
    expect(await page.evaluate<string | null>("sessionStorage.getItem('posthooks.apiKey')")).toBe(acc.key);
    // A reload keeps the session (same tab); a new tab (context) would not.
    await page.reload();
    await page.getByRole('heading', { name: 'Post-load hooks' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate<string | null>("sessionStorage.getItem('posthooks.apiKey')")).toBeNull();
    // The key never travels in a URL, and no service logged it.
    expect(requestedUrls.filter((u) => u.includes(acc.key))).toEqual([]);
    for (const service of stack.services.values()) expect(service.output).not.toContain(acc.key);
  });

  it('lists, adds (Invalid URI shown without a request), disables, re-enables, tests, rotates and deletes hooks', async () => {
    const acc = await account();
    const tab = await open();
    const { page, requestedUrls } = tab;
    const hookPosts: string[] = [];
    page.on('request', (req) => {
      if (req.method() === 'POST' && req.url().endsWith('/notifications/public/v1/api/hooks')) hookPosts.push(req.url());
    });
    await signIn(page, acc.key);
    await page.getByRole('heading', { name: 'Post-load hooks' }).waitFor();
    await page.getByText('0 of 10 hooks').waitFor();

    await page.getByRole('button', { name: 'Add Webhook' }).click();
    const urlField = page.getByLabel('Webhook URL');
    expect(await urlField.getAttribute('type')).toBe('url');
    await urlField.fill('http://hooks.acme.test/landed');
    await page.getByRole('button', { name: 'Save Webhook' }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid URI' }).waitFor();
    expect(hookPosts).toEqual([]);

    const url = ok.url('/console-hook');
    await urlField.fill(url);
    await page.getByRole('button', { name: 'Save Webhook' }).click();
    const secret = page.getByRole('group', { name: /Signing secret of hook/ }).getByRole('textbox');
    expect(await secret.inputValue()).toMatch(/^whsec_/);
    const firstSecret = await secret.inputValue();
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('status').filter({ hasText: /Copied|Selected/ }).waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByRole('group', { name: /Signing secret/ }).count()).resolves.toBe(0);

    const row = hookRow(page, url);
    await row.getByText('Enabled').waitFor();
    await page.getByText('1 of 10 hooks').waitFor();
    await tab.screenshot('hooks');

    await row.getByRole('button', { name: 'Disable this webhook', exact: true }).click();
    await row.getByText('Disabled (disabled by a user)').waitFor();
    await row.getByRole('button', { name: 'Re-enable this webhook', exact: true }).click();
    await row.getByText('Enabled').waitFor();

    await stack.registryApplied('dispatcher');
    const before = ok.requests.length;
    await row.getByRole('button', { name: 'Send test event', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'A test event is on its way' }).waitFor();
    await waitFor('the test ping at the receiver', () => ok.requests.slice(before).some((r) => r.body.includes('"ping"')), { timeoutMs: 20_000 });

    await row.getByRole('button', { name: 'Rotate secret', exact: true }).click();
    const rotated = page.getByRole('group', { name: /New signing secret of hook/ }).getByRole('textbox');
    expect(await rotated.inputValue()).toMatch(/^whsec_/);
    expect(await rotated.inputValue()).not.toBe(firstSecret);
    await page.getByRole('button', { name: 'Done' }).click();

    await row.getByRole('button', { name: 'Delete this webhook', exact: true }).click();
    // Nothing is deleted before the confirmation.
    expect((await stack.call<{ post_load: unknown[] }>('hook-registry', 'GET', '/notifications/public/v1/api/hooks', acc.key)).body.post_load).toHaveLength(1);
    await row.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByText('No hooks yet.').waitFor();
    expect((await stack.call<{ post_load: unknown[] }>('hook-registry', 'GET', '/notifications/public/v1/api/hooks', acc.key)).body.post_load).toHaveLength(0);

    // Neither the key nor a secret in any URL the page asked for, nor in any service's log.
    expect(requestedUrls.filter((u) => u.includes(acc.key) || u.includes('whsec_'))).toEqual([]);
    for (const service of stack.services.values()) {
      expect(service.output).not.toContain(acc.key);
      expect(service.output).not.toContain(firstSecret);
    }
  });

  it('shows the limit message for the 11th hook, and why an account without the entitlement cannot add or re-enable', async () => {
    const acc = await account();
    for (let i = 0; i < 10; i++) await stack.hook(acc.key, acc.destinationId, ok.url(`/limit-${i}`));
    const tab = await open();
    const { page } = tab;
    await signIn(page, acc.key);
    await page.getByText('10 of 10 hooks').waitFor();
    await page.getByRole('button', { name: 'Add Webhook' }).click();
    await page.getByLabel('Webhook URL').fill(ok.url('/eleventh'));
    await page.getByRole('button', { name: 'Save Webhook' }).click();
    await page.getByRole('alert').filter({ hasText: 'You have exceeded the limit of 10 hooks.' }).waitFor();

    const standard = await account('standard');
    const second = await open();
    await signIn(second.page, standard.key);
    await second.page.getByText('Client does not have access to hooks.').waitFor();
    expect(await second.page.getByRole('button', { name: 'Add Webhook' }).isDisabled()).toBe(true);
  });

  it('runs a simulated load whose events appear in the deliveries view, with the chart, failed attempts marked, Redeliver and Recover since', async () => {
    const acc = await account();
    const good = await stack.hook(acc.key, acc.destinationId, ok.url('/deliveries-ok'));
    const bad = await stack.hook(acc.key, acc.destinationId, failing.url('/deliveries-bad'));
    await stack.registryApplied('dispatcher');
    const tab = await open();
    const { page } = tab;
    await signIn(page, acc.key, '#/simulate');

    await page.getByRole('heading', { name: 'Simulate a load' }).waitFor();
    await page.getByLabel('Integration').fill('shopify');
    await page.getByLabel('Tables (comma-separated)').fill('orders, customers');
    await page.getByLabel('Outcome').selectOption('loaded');
    await page.getByRole('button', { name: 'Run simulation' }).click();
    await page.getByRole('status').filter({ hasText: '2 events published' }).waitFor();
    await tab.screenshot('simulate');

    // The good hook: both events delivered, counted in the chart.
    await page.goto(`${base}/console/#/hooks/${good.id}/deliveries`);
    await page.getByRole('heading', { name: 'Recent attempts' }).waitFor({ timeout: 20_000 });
    await waitFor('both events in the log', async () => (await page.locator('tr[data-status="succeeded"]').count()) === 2, { timeoutMs: 30_000, intervalMs: 250 });
    await page.getByTestId('chart-totals').filter({ hasText: '2 succeeded, 0 failed' }).waitFor();
    expect(await page.locator('.chart canvas').count()).toBe(1);
    await tab.screenshot('deliveries');

    // The failing hook: every attempt marked failed, 6 per event once retries are spent.
    await page.getByLabel('Hook').selectOption(String(bad.id));
    await waitFor('12 failed attempts (2 events x 6)', async () => (await page.locator('tr.failed[data-status="failed"]').count()) === 12, { timeoutMs: 40_000, intervalMs: 250 });
    await page.getByTestId('chart-totals').filter({ hasText: '0 succeeded, 12 failed' }).waitFor();
    await tab.screenshot('deliveries-failed');

    const before = failing.requests.length;
    await page.locator('tr.failed').first().getByRole('button', { name: 'Redeliver' }).click();
    await page.getByRole('status').filter({ hasText: /Redelivery of msg_[0-9a-f]+ is queued/ }).waitFor();
    await waitFor('the redelivery at the receiver', () => failing.requests.length > before, { timeoutMs: 20_000 });

    await page.getByRole('button', { name: 'Recover' }).click();
    await page.getByRole('status').filter({ hasText: /Recovered [1-9]\d* events?/ }).waitFor({ timeout: 20_000 });
  });

  it('manages incoming-webhook integrations: URL shown once, rows loaded and last load, a second URL, Revoke', async () => {
    const acc = await account();
    const tab = await open();
    const { page } = tab;
    await signIn(page, acc.key, '#/integrations');
    await page.getByRole('heading', { name: 'Incoming webhooks' }).waitFor();
    await page.getByLabel('Name').fill('shopify');
    await page.getByLabel('Primary key (optional)').fill('id');
    await page.getByRole('button', { name: 'Create integration' }).click();
    const shown = page.getByRole('group', { name: 'Webhook URL of shopify' }).getByRole('textbox');
    const webhookUrl = await shown.inputValue();
    expect(webhookUrl).toMatch(/\/v1\/incoming\/\S+$/);

    // The URL works: records posted to it load (through the gateway, not the console).
    const token = webhookUrl.split('/v1/incoming/')[1];
    const posted = await fetch(`${stack.get('ingest-gateway').url}/v1/incoming/${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"id":1},{"id":2}]' });
    expect(posted.status).toBe(202);

    const row = page.getByRole('row').filter({ hasText: 'shopify' });
    await row.getByText('URL #').first().waitFor();
    // The two records load; the view (polling) shows them and the time of the load.
    await row.getByTestId('rows-loaded').filter({ hasText: /^2$/ }).waitFor({ timeout: 30_000 });
    expect(await row.getByRole('cell').nth(4).textContent()).not.toContain('never');
    await row.getByRole('button', { name: 'Generate URL' }).click();
    const second = page.getByRole('group', { name: 'New webhook URL of shopify' }).getByRole('textbox');
    expect(await second.inputValue()).not.toBe(webhookUrl);
    await waitFor('two live URLs', async () => (await row.getByRole('button', { name: 'Revoke' }).count()) === 2, { timeoutMs: 10_000, intervalMs: 100 });
    // At most 2 live: the page says so instead of asking for a third.
    expect(await row.getByRole('button', { name: 'Generate URL' }).isDisabled()).toBe(true);
    await tab.screenshot('integrations');

    await row.getByRole('button', { name: 'Revoke' }).first().click();
    await waitFor('one live URL', async () => (await row.getByRole('button', { name: 'Revoke' }).count()) === 1, { timeoutMs: 10_000, intervalMs: 100 });
    const revoked = await fetch(`${stack.get('ingest-gateway').url}/v1/incoming/${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":3}' });
    expect(revoked.status).toBe(404);
  });

  it('lists destinations and adds a built-in one', async () => {
    const acc = await account();
    const tab = await open();
    const { page } = tab;
    await signIn(page, acc.key, '#/destinations');
    await page.getByRole('cell', { name: `built-in (posthooks_dest_${acc.destinationId})` }).waitFor();
    await page.getByLabel('Name').fill('lake');
    await page.getByRole('button', { name: 'Add destination' }).click();
    await page.getByRole('cell', { name: 'lake', exact: true }).waitFor();
    await tab.screenshot('destinations');
  });

  it('works with the keyboard alone, with a visible focus', async () => {
    const acc = await account();
    const tab = await open();
    const { page } = tab;
    await page.goto(`${base}/console/`);
    // The key field has the focus on arrival (once the page has rendered it); Enter submits.
    const keyField = page.getByLabel('API key');
    await keyField.waitFor();
    await page.waitForFunction("document.activeElement?.getAttribute('type') === 'password'");
    await page.keyboard.type(acc.key);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();

    // Tab from the top reaches "Add Webhook"; Enter opens the form, whose URL field takes the focus.
    const reached: string[] = [];
    for (let i = 0; i < 30 && reached[reached.length - 1] !== 'Add Webhook'; i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate<string>("document.activeElement?.textContent?.trim() ?? ''"));
    }
    expect(reached).toContain('Add Webhook');
    const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).not.toBe('none');
    await page.keyboard.press('Enter');
    await page.keyboard.type(ok.url('/by-keyboard'));
    await page.keyboard.press('Enter');
    await page.getByRole('group', { name: /Signing secret of hook/ }).waitFor();
    await hookRow(page, ok.url('/by-keyboard')).getByText('Enabled').waitFor();
  });

  it('is readable at a phone width: nothing wider than the screen but the tables, which scroll in their frame', async () => {
    const acc = await account();
    await stack.hook(acc.key, acc.destinationId, ok.url('/a-rather-long-path/for-a-phone-screen/landed'));
    const tab = await open({ width: 390, height: 844 });
    const { page } = tab;
    await signIn(page, acc.key);
    await page.getByText('1 of 10 hooks').waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await tab.screenshot('hooks-phone');
  });

  it('proxies only the routes the console uses, and only for account keys', async () => {
    const acc = await account();
    const call = (path: string, token?: string) => fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    expect((await call('/console/api/ingest-gateway/v1/integrations', acc.key)).status).toBe(200);
    expect((await call('/console/api/ingest-gateway/v1/integrations')).status).toBe(401);
    expect((await call('/console/api/ingest-gateway/v1/integrations', TEST_ADMIN_TOKEN)).status).toBe(401);
    expect((await call('/console/api/dispatcher/metrics', acc.key)).status).toBe(404);
    expect((await call('/console/api/dispatcher/v1/hooks/1/../../../metrics', acc.key)).status).toBe(404);
    // Sent as raw bytes (fetch would resolve the dots itself): nothing outside the console's files.
    for (const path of ['/console/..%2f..%2f..%2fpackage.json', '/console/%2e%2e/%2e%2e/%2e%2e/package.json', '/console/assets/..%2f..%2f..%2f.secrets-key', '/console/.env']) {
      const res = await rawGet(base, path);
      expect([path, res.status < 500 && res.status >= 400, res.body]).toEqual([path, true, expect.not.stringContaining('"name": "posthooks"')]);
    }
    // The page's files carry a content security policy: only this origin.
    const page = await fetch(`${base}/console/`);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  /** The flows on the routes of SPEC §9 (hook settings), §5 (the undelivered view) and §2 (destinations with a connection). */
  describe('hook settings, the undelivered view, a destination with a connection (issues 16 and 17)', () => {
    it('edits a hook’s settings: event types, filters, a header shown as ***, rate limit, verify', async () => {
      const acc = await account();
      const hook = await stack.hook(acc.key, acc.destinationId, ok.url('/settings'));
      const tab = await open();
    const { page } = tab;
      await signIn(page, acc.key);
      const row = hookRow(page, ok.url('/settings'));
      await row.getByRole('button', { name: 'Settings' }).click();
      await page.getByRole('heading', { name: `Settings of hook ${hook.id}` }).waitFor();
      await page.getByLabel('load.started').check();
      await page.getByLabel('Integrations (comma-separated; empty: all)').fill('shopify');
      await page.getByRole('button', { name: 'Add header' }).click();
      await page.getByLabel('Header name').fill('X-Api-Key');
      expect(await page.getByLabel('Header value').getAttribute('type')).toBe('password');
      await page.getByLabel('Header value').fill('s3cret-header-value');
      await page.getByLabel('Rate limit (requests per second; empty: none)').fill('5');
      await page.getByLabel('Verify: send a ping with these settings').check();
      await page.getByRole('button', { name: 'Save settings' }).click();
      await page.getByRole('status').filter({ hasText: /Saved\. Verify: the endpoint answered 200/ }).waitFor({ timeout: 20_000 });
      const stored = await stack.call<{ settings: { headers: Record<string, string>; rate_limit_per_s: number; event_types: string[] } }>('hook-registry', 'GET', `/v1/hooks/${hook.id}`, acc.key);
      expect(stored.body.settings).toMatchObject({ headers: { 'X-Api-Key': '***' }, rate_limit_per_s: 5 });
      expect(stored.body.settings.event_types).toContain('load.started');
      await tab.screenshot('hook-settings');
    });

    it('shows the account’s undelivered view', async () => {
      const acc = await account();
      await stack.hook(acc.key, acc.destinationId, failing.url('/undelivered'));
      await stack.registryApplied('dispatcher');
      await stack.call('load-simulator', 'POST', '/v1/simulations', acc.key, { client_id: acc.id, integration_name: 'shopify', tables: ['orders'], outcome: 'loaded' });
      const tab = await open();
    const { page } = tab;
      await signIn(page, acc.key, '#/undelivered');
      await page.locator('tr.failed').first().waitFor({ timeout: 40_000 });
      await tab.screenshot('undelivered');
    });

    it('adds a destination with its own connection, the password masked', async () => {
      const acc = await account();
      const tab = await open();
    const { page } = tab;
      await signIn(page, acc.key, '#/destinations');
      await page.getByLabel('Name').fill('own-warehouse');
      await page.getByLabel('My Postgres').check();
      const db = new URL(stack.env.DATABASE_URL);
      await page.getByLabel('Host').fill(db.hostname);
      await page.getByLabel('Port').fill(db.port || '5432');
      await page.getByRole('textbox', { name: 'Database' }).fill('postgres');
      await page.getByLabel('User').fill(db.username || 'postgres');
      expect(await page.getByLabel('Password').getAttribute('type')).toBe('password');
      await page.getByLabel('Password').fill('not-shown-anywhere');
      await page.getByRole('button', { name: 'Add destination' }).click();
      await page.getByRole('cell', { name: 'own-warehouse', exact: true }).waitFor();
      expect(await page.content()).not.toContain('not-shown-anywhere');
    });
  });
});
