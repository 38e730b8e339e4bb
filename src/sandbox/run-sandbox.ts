import { playConversation } from './conversation-script';
import { Sandbox } from './sandbox';

/**
 * `npm run sandbox`: the whole bridge on this machine, without an AWS account.
 * It plays a scripted conversation, then keeps running; `--check` stops after the script.
 */
async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const requestedPort = Number(process.env.SANDBOX_PORT ?? 3000);
  console.log(
    'Starting the sandbox: Redis, the Connect emulator, fake Twilio and WhatsApp, the bridge…',
  );
  const sandbox = await Sandbox.start({
    redisUrl: process.env.REDIS_URL,
    bridgePort: check ? 0 : requestedPort,
    logLevel: process.env.LOG_LEVEL ?? 'warn',
    onBridgeLine: (line) => console.log(`[bridge] ${line}`),
  });
  const stop = async (code: number) => {
    await sandbox.close();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  console.log(
    [
      '',
      `  bridge                  ${sandbox.bridge.url}  (ready)`,
      `  redis                   ${sandbox.redisUrl}`,
      `  Connect emulator        ${sandbox.emulator.url}  (contacts: ${sandbox.emulator.url}/_emulator/contacts)`,
      `  fake Twilio API         ${sandbox.twilio.url}  (sent: ${sandbox.twilio.url}/_fake/messages)`,
      `  fake WhatsApp Graph API ${sandbox.whatsapp.url}  (sent: ${sandbox.whatsapp.url}/_fake/messages)`,
      `  streaming topic         ${sandbox.emulator.topicArn}`,
      '',
    ].join('\n'),
  );
  await playConversation(sandbox, (line) => console.log(line));
  if (check) {
    await stop(0);
    return;
  }
  console.log('Press Ctrl-C to stop.');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
