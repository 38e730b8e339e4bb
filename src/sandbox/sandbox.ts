import { BridgeProcess } from './bridge-process';
import { ConnectEmulator } from './emulator';
import { freePort } from './ports';
import { FakeGenericApp, FakeTwilio, FakeWhatsApp } from './providers';
import { eventually } from './eventually';
import { RedisServer } from './redis-server';

export const SANDBOX_CREDENTIALS = {
  twilioAccountSid: `AC${'5a4db0c5'.repeat(4)}`,
  twilioAuthToken: 'sandbox-twilio-auth-token',
  whatsappAccessToken: 'sandbox-whatsapp-access-token',
  whatsappAppSecret: 'sandbox-whatsapp-app-secret',
  whatsappVerifyToken: 'sandbox-whatsapp-verify-token',
  adminApiToken: 'sandbox-admin-api-token',
  genericWebhookSecret: 'sandbox-generic-webhook-secret',
};

export interface SandboxOptions {
  /** An existing Redis; without it a redis-server from PATH is started on a free port. */
  redisUrl?: string;
  /** Port of the bridge; 0 or unset picks a free one. */
  bridgePort?: number;
  logLevel?: string;
  onBridgeLine?: (line: string) => void;
  /** Variables to set or override in the bridge's environment. */
  bridgeEnv?: Record<string, string>;
}

/** Redis, the Connect emulator, the fake providers and the bridge, wired together. */
export class Sandbox {
  private constructor(
    readonly redisUrl: string,
    private readonly redisServer: RedisServer | undefined,
    readonly emulator: ConnectEmulator,
    readonly twilio: FakeTwilio,
    readonly whatsapp: FakeWhatsApp,
    /** The in-house app on the generic channel: receives what agents write to its customers. */
    readonly genericApp: FakeGenericApp,
    readonly bridge: BridgeProcess,
  ) {}

  static async start(options: SandboxOptions = {}): Promise<Sandbox> {
    const redisServer = options.redisUrl ? undefined : await RedisServer.start();
    const redisUrl = options.redisUrl ?? redisServer!.url;
    const emulator = await ConnectEmulator.start({
      flowMessages: ['Thanks for reaching out. An agent will be with you shortly.'],
    });
    const twilio = await FakeTwilio.start({
      accountSid: SANDBOX_CREDENTIALS.twilioAccountSid,
      authToken: SANDBOX_CREDENTIALS.twilioAuthToken,
    });
    const port = options.bridgePort || (await freePort());
    const whatsapp = await FakeWhatsApp.start({
      accessToken: SANDBOX_CREDENTIALS.whatsappAccessToken,
      appSecret: SANDBOX_CREDENTIALS.whatsappAppSecret,
      webhookUrl: `http://127.0.0.1:${port}/webhooks/whatsapp`,
    });
    const genericApp = await FakeGenericApp.start({
      secret: SANDBOX_CREDENTIALS.genericWebhookSecret,
    });
    const env = bridgeEnvironment({
      port,
      redisUrl,
      emulator,
      twilio,
      whatsapp,
      genericApp,
      options,
    });
    const bridge = await BridgeProcess.start(env, options.onBridgeLine);
    // The bridge subscribes itself to the streaming topic at start; agent messages reach it
    // once SNS has its confirmation.
    await eventually(
      'the bridge subscribed to the streaming topic',
      () =>
        emulator.sns
          .subscriptionsOf(emulator.topicArn)
          .some((subscription) => subscription.status === 'confirmed'),
      30_000,
    );
    // Meta checks a webhook URL with this handshake before it sends anything to it.
    const verification = await whatsapp.verifyWebhook(SANDBOX_CREDENTIALS.whatsappVerifyToken);
    if (!verification.verified) {
      throw new Error(`the WhatsApp webhook handshake failed: HTTP ${verification.status}`);
    }
    return new Sandbox(redisUrl, redisServer, emulator, twilio, whatsapp, genericApp, bridge);
  }

  async close(): Promise<void> {
    await this.bridge.stop('SIGTERM');
    await Promise.all([
      this.emulator.close(),
      this.twilio.close(),
      this.whatsapp.close(),
      this.genericApp.close(),
    ]);
    await this.redisServer?.destroy();
  }
}

function bridgeEnvironment(parts: {
  port: number;
  redisUrl: string;
  emulator: ConnectEmulator;
  twilio: FakeTwilio;
  whatsapp: FakeWhatsApp;
  genericApp: FakeGenericApp;
  options: SandboxOptions;
}): NodeJS.ProcessEnv {
  const { emulator, options } = parts;
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'development',
    LOG_LEVEL: options.logLevel ?? 'info',
    PORT: String(parts.port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${parts.port}`,
    REDIS_URL: parts.redisUrl,
    ...emulator.bridgeEnvironment(),
    SNS_SUBSCRIBE_ON_START: 'true',
    AGENT_JOINED_MESSAGE: '{name} has joined the chat.',
    CHAT_ENDED_MESSAGE: 'The chat has ended. Write again any time.',
    TWILIO_ACCOUNT_SID: SANDBOX_CREDENTIALS.twilioAccountSid,
    TWILIO_AUTH_TOKEN: SANDBOX_CREDENTIALS.twilioAuthToken,
    TWILIO_API_BASE_URL: parts.twilio.url,
    WHATSAPP_ACCESS_TOKEN: SANDBOX_CREDENTIALS.whatsappAccessToken,
    WHATSAPP_APP_SECRET: SANDBOX_CREDENTIALS.whatsappAppSecret,
    WHATSAPP_VERIFY_TOKEN: SANDBOX_CREDENTIALS.whatsappVerifyToken,
    WHATSAPP_GRAPH_API_BASE_URL: parts.whatsapp.url,
    ADMIN_API_TOKEN: SANDBOX_CREDENTIALS.adminApiToken,
    GENERIC_WEBHOOK_SECRET: SANDBOX_CREDENTIALS.genericWebhookSecret,
    GENERIC_CALLBACK_URL: parts.genericApp.callbackUrl,
    ...options.bridgeEnv,
  };
}
