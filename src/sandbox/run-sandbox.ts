import { parseArgs } from 'node:util';
import { playConversation } from './conversation-script';
import { customerLine, SANDBOX_CHANNELS, type SandboxChannel } from './customer-lines';
import { Sandbox } from './sandbox';

function options(): { check: boolean; channel: SandboxChannel } {
  const { values } = parseArgs({
    options: {
      check: { type: 'boolean', default: false },
      channel: { type: 'string', default: 'generic' },
    },
  });
  const channel = values.channel as SandboxChannel;
  if (!SANDBOX_CHANNELS.includes(channel)) {
    throw new Error(`--channel must be one of ${SANDBOX_CHANNELS.join(', ')}`);
  }
  return { check: values.check, channel };
}

/**
 * `npm run sandbox [-- --channel generic|twilio|whatsapp]`: the whole bridge on this machine,
 * without an AWS account. It plays a scripted conversation over the channel, then keeps
 * running; `--check` stops after the script.
 */
async function main(): Promise<void> {
  const { check, channel } = options();
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
  console.log(`Playing the conversation over the ${channel} channel.`);
  await playConversation(sandbox, customerLine(sandbox, channel), (line) => console.log(line));
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
