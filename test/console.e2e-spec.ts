import { genericCustomers } from './support/generic-customers';
import { Queue } from 'bullmq';
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { LaneJob } from '../src/relay';
import type { BridgeProcess } from '../src/sandbox/bridge-process';
import { ConnectEmulator } from '../src/sandbox/emulator';
import { eventually } from '../src/sandbox/eventually';
import { FakeGenericApp } from '../src/sandbox/providers';
import { sharedRedisUrl } from './support/env';
import { startStreamingBridge } from './support/streaming';

/** Debian's Chromium; .ci/run installs it. */
const CHROMIUM = '/usr/bin/chromium';
const SECRET = 'generic-webhook-secret-for-console-tests';
const TOKEN = 'admin-api-token-for-the-console-tests';
const BUSINESS = '+15559990000';

describe('the support console, in a browser', () => {
  let emulator: ConnectEmulator;
  let app: FakeGenericApp;
  let bridge: BridgeProcess;
  let browser: Browser;
  let inbound: Queue<LaneJob>;
  const contexts: BrowserContext[] = [];
  const prefix = `console${Date.now()}`;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install Chromium (apt-get install -y chromium) to run the console's browser test`,
      );
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    emulator = await ConnectEmulator.start();
    app = await FakeGenericApp.start({ secret: SECRET });
    bridge = await startStreamingBridge(emulator, {
      REDIS_KEY_PREFIX: prefix,
      GENERIC_WEBHOOK_SECRET: SECRET,
      GENERIC_CALLBACK_URL: app.callbackUrl,
      ADMIN_API_TOKEN: TOKEN,
      INBOUND_ATTEMPTS: '2',
      LOG_LEVEL: 'info',
    });
    inbound = new Queue<LaneJob>('inbound', {
      connection: { url: sharedRedisUrl() },
      prefix: `{${prefix}}`,
    });
  });

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await inbound?.close();
    await bridge?.stop();
    await emulator?.close();
    await app?.close();
  });

  beforeEach(() => {
    emulator.faults.configure({ seed: 1, operations: {}, sns: { dropRate: 0, duplicateRate: 0 } });
  });

  const url = (path: string) => `${bridge.url}${path}`;
  const { newCustomer, customerTexts, post, customerWrites } = genericCustomers({
    bridgeUrl: () => bridge.url,
    emulator: () => emulator,
    secret: SECRET,
    businessAddress: BUSINESS,
    firstNumber: 4_000_000,
  });

  /** A fresh browser that reaches the bridge only (Bull Board's page asks for web fonts too). */
  async function newPage(): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    await context.route(
      (requested) => requested.origin !== bridge.url,
      (route) => route.abort(),
    );
    return context.newPage();
  }

  /** A fresh browser that logged in through the login form. */
  async function loggedIn(): Promise<Page> {
    const page = await newPage();
    await page.goto(url('/admin/login'));
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(url('/admin/console'));
    return page;
  }

  async function findConversation(page: Page, customer: string): Promise<void> {
    await page.goto(url('/admin/console'));
    await page.getByLabel('Customer address').fill(customer);
    await page.getByRole('button', { name: 'Find by customer' }).click();
    const rows = page.locator('#conversations tr', { hasText: customer });
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1);
    await rows.getByRole('link').click();
    await page.waitForURL(/\/admin\/console\/conversations\/[0-9a-f]{32}$/);
  }

  const timelineEvents = (page: Page) =>
    page.locator('#timeline tr td:nth-child(2)').allInnerTexts();

  it('sends a browser without a session to the login page, refuses it the dashboard, and takes only the token', async () => {
    const page = await newPage();
    for (const path of ['/admin/console', '/admin/console/jobs']) {
      await page.goto(url(path));
      expect(page.url()).toBe(url('/admin/login'));
    }
    const dashboard = await page.goto(url('/admin/queues'));
    expect(dashboard?.status()).toBe(401);
    expect(await page.content()).not.toContain('inbound');

    await page.goto(url('/admin/login'));
    await page.getByLabel('Admin token').fill(`${TOKEN}x`);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('That is not the admin token.').waitFor();
    expect(await page.context().cookies()).toEqual([]);
    await page.goto(url('/admin/console'));
    expect(page.url()).toBe(url('/admin/login'));
  });

  it('logs in through the form into an HttpOnly, SameSite=Strict cookie that is not the token, and logs out', async () => {
    const page = await loggedIn();
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: 'csb_console', path: '/admin', httpOnly: true });
    expect(cookie.sameSite).toBe('Strict');
    expect(cookie.value).not.toContain(TOKEN);
    await page.getByRole('heading', { name: 'Find a conversation' }).waitFor();

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(url('/admin/login'));
    expect(await page.context().cookies()).toEqual([]);
    await page.goto(url('/admin/console'));
    expect(page.url()).toBe(url('/admin/login'));
  });

  it('finds a conversation by its customer and shows its details and timeline, without a token', async () => {
    const customer = newCustomer();
    const contact = await customerWrites(customer, 'timeline-1');
    const page = await loggedIn();
    await findConversation(page, customer);

    const details = await page.locator('dl').innerText();
    expect(details).toContain(customer);
    expect(details).toContain(contact.contactId);
    expect(details).toContain('generic:app');
    expect(await timelineEvents(page)).toEqual(
      expect.arrayContaining(['received', 'contact-started', 'sent']),
    );
    const times = await page.locator('#timeline tr td:nth-child(1)').allInnerTexts();
    for (const time of times) expect(time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    const content = await page.content();
    const tokens = contact.participants.flatMap((participant) => [
      ...(participant.participantToken ? [participant.participantToken] : []),
      ...participant.connections.map((connection) => connection.token),
    ]);
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    for (const token of tokens) expect(content).not.toContain(token);

    await page.goto(url('/admin/console'));
    await page.getByLabel('Contact id').fill(contact.contactId);
    await page.getByRole('button', { name: 'Find by contact' }).click();
    await page.waitForURL(/\/admin\/console\/conversations\/[0-9a-f]{32}$/);
    expect(await page.locator('dl').innerText()).toContain(customer);
  });

  it('ends a conversation with its End button', async () => {
    const customer = newCustomer();
    const contact = await customerWrites(customer, 'end-1');
    const page = await loggedIn();
    await findConversation(page, customer);

    await page.getByRole('button', { name: 'End conversation' }).click();
    await page.getByText('The contact was ended').waitFor();
    expect(await page.locator('dl').innerText()).toMatch(/State\s+ended/);
    expect(await timelineEvents(page)).toContain('contact-ended');
    expect(await page.getByRole('button', { name: 'End conversation' }).count()).toBe(0);
    expect(emulator.center.findContact(contact.contactId).endedAt).toBeDefined();
  });

  it('lists a message that failed for good with its reason, and retries it: gone from the list, delivered at Connect', async () => {
    const customer = newCustomer();
    await customerWrites(customer, 'retry-0');
    emulator.faults.configure({
      seed: 1,
      operations: { SendMessage: { throttleRate: 1 } },
      sns: { dropRate: 0, duplicateRate: 0 },
    });
    await post(customer, 'retry-1');
    const jobId = encodeURIComponent('generic:app/retry-1');
    await eventually(
      'the message failed',
      async () => (await inbound.getJobState(jobId)) === 'failed',
      30_000,
    );
    emulator.faults.configure({ seed: 1, operations: {}, sns: { dropRate: 0, duplicateRate: 0 } });

    const page = await loggedIn();
    await page.getByRole('link', { name: 'Queues and failed jobs' }).click();
    await page.waitForURL(url('/admin/console/jobs'));
    const inboundRow = page.locator('#queues tr', { hasText: 'inbound' });
    expect(await inboundRow.locator('td').nth(6).innerText()).not.toBe('0');
    const row = page.locator(`#failed-inbound tr[data-job="${jobId}"]`);
    expect(await row.innerText()).toContain('text of retry-1');
    expect(await row.innerText()).toMatch(/rate exceeded|throttl/i);

    await row.getByRole('button', { name: 'Retry' }).click();
    await page.getByText('The job was retried').waitFor();
    expect(await page.locator(`#failed-inbound tr[data-job="${jobId}"]`).count()).toBe(0);
    await eventually(
      'the retried message at Connect',
      () => customerTexts(customer).includes('text of retry-1'),
      20_000,
    );
    expect(customerTexts(customer)).toEqual(['text of retry-0', 'text of retry-1']);
  }, 60_000);

  it('refuses a form posted with the session cookie but without its CSRF token', async () => {
    const page = await loggedIn();
    const request = page.context().request;
    for (const path of [
      '/admin/console/jobs/inbound/retry-all',
      '/admin/console/conversations/some-conversation/end',
      '/admin/logout',
    ]) {
      const answer = await request.post(url(path), { form: { _csrf: 'not-the-token' } });
      expect([path, answer.status()]).toEqual([path, 403]);
    }
  });

  it('shows Bull Board with both queues to a logged-in operator', async () => {
    const page = await loggedIn();
    await page.getByRole('link', { name: 'Bull Board' }).click();
    await page.waitForURL(url('/admin/queues'));
    await page.getByText('inbound', { exact: true }).first().waitFor();
    await page.getByText('outbound', { exact: true }).first().waitFor();
  });

  it('never logs the token or a session cookie', async () => {
    const page = await loggedIn();
    const [cookie] = await page.context().cookies();
    const logs = JSON.stringify(bridge.logs);
    expect(logs).toContain('an operator logged in to the console');
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(cookie.value);
  });
});
