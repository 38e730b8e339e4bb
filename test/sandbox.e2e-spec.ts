import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { sharedRedisUrl } from './support/env';

const RUN_SANDBOX = join(__dirname, '..', 'dist', 'sandbox', 'run-sandbox.js');

function runSandboxCheck(
  env: NodeJS.ProcessEnv,
  args: string[] = [],
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUN_SANDBOX, '--check', ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run sandbox', () => {
  it('starts every part, reports their addresses and plays a two-way conversation to its end and a new contact', async () => {
    const { code, output } = await runSandboxCheck({});
    expect(output).toMatch(/bridge\s+http:\/\/127\.0\.0\.1:\d+ {2}\(ready\)/);
    expect(output).toMatch(/redis\s+redis:\/\/127\.0\.0\.1:\d+/);
    expect(output).toMatch(/Connect emulator\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toMatch(/fake Twilio API\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toMatch(/fake WhatsApp Graph API\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toContain('Playing the conversation over the generic channel.');
    expectTheWholeConversation(output, { customer: 'Ada', customerFile: 'parcel-label.jpg' });
    expect(code).toBe(0);
  });

  it.each([
    ['twilio', { customer: '\\+15550100001', customerFile: 'attachment.jpeg' }],
    ['whatsapp', { customer: 'Ada', customerFile: 'attachment.jpeg' }],
  ])('plays the conversation over --channel %s', async (channel, names) => {
    const { code, output } = await runSandboxCheck({}, ['--channel', channel]);
    expect(output).toContain(`Playing the conversation over the ${channel} channel.`);
    expectTheWholeConversation(output, names);
    expect(code).toBe(0);
  });

  it('uses REDIS_URL when it is set', async () => {
    const { code, output } = await runSandboxCheck({ REDIS_URL: sharedRedisUrl() });
    expect(output).toContain(`redis                   ${sharedRedisUrl()}`);
    expect(code).toBe(0);
  });

  it('refuses an unknown channel', async () => {
    const { code, output } = await runSandboxCheck({}, ['--channel', 'fax']);
    expect(output).toContain('--channel must be one of generic, twilio, whatsapp');
    expect(code).toBe(1);
  });
});

/**
 * What every channel's run prints: both sides of the conversation, files included. `customer` is
 * a pattern of the customer's name at Connect (an SMS customer is known by number).
 */
function expectTheWholeConversation(
  output: string,
  { customer, customerFile }: { customer: string; customerFile: string },
): void {
  const said = (text: string) => new RegExp(`CUSTOMER ${customer}: "${text}"`);
  expect(output).toContain('the agent side of the Connect emulator received:');
  expect(output).toMatch(said('Hi! My order #1042 has not arrived yet\\.'));
  expect(output).toMatch(said('Here is the label on the parcel I got instead\\.'));
  expect(output).toMatch(new RegExp(`CUSTOMER ${customer}: file ${customerFile}`));
  expect(output).toMatch(/SYSTEM SYSTEM_MESSAGE: "Thanks for reaching out/);
  expect(output).toContain('customer  ← Sam has joined the chat.');
  expect(output).toContain(
    'customer  ← Sorry about that, Ada. It left our warehouse today; it arrives tomorrow.',
  );
  expect(output).toMatch(
    /customer {2}← \[file http:\/\/127\.0\.0\.1:\d+\/_emulator\/downloads\/\S+\]/,
  );
  expect(output).toMatch(said('Great, thank you!'));
  expect(output).toContain('customer  ← The chat has ended. Write again any time.');
  expect(output).toMatch(/a new contact started: \S+ \(the first was \S+\)/);
  expect(output).toMatch(said('One more thing: can I change the delivery address\\?'));
}
