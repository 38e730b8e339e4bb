import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65_535);
const positiveInt = z.coerce.number().int().positive();
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const hostPortList = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim()))
  .pipe(
    z
      .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be a comma-separated list of host:port'))
      .min(1),
  );
const secret = z.string().min(1);

const STANDARD_SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const snsTopicArn = z
  .string()
  .regex(STANDARD_SNS_TOPIC_ARN, 'must be the ARN of a standard (not FIFO) SNS topic');

const snsTopicArnList = z
  .string()
  .transform((value) => [...new Set(value.split(',').map((item) => item.trim()))])
  .pipe(
    z
      .array(
        z
          .string()
          .regex(
            STANDARD_SNS_TOPIC_ARN,
            'must be a comma-separated list of standard (not FIFO) SNS topic ARNs',
          ),
      )
      .min(1),
  );

const regex = z.string().refine((source) => {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}, 'must be a valid regular expression');

const encryptionKey = z
  .string()
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64')
  .transform((value) => Buffer.from(value, 'base64'))
  .refine((key) => key.length === 32, 'must decode to exactly 32 bytes');

/**
 * The whole configuration contract, one key per environment variable.
 * Keys are the variable names so that a problem names the variable; `.env.example`
 * and the README's configuration table must list every key (a test checks it).
 */
export const configSchema = z.object({
  PORT: port.default(3000),
  PUBLIC_BASE_URL: httpUrl.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAX_BODY_BYTES: positiveInt.default(1_048_576),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(25_000),

  REDIS_URL: z
    .url({
      protocol: /^rediss?$/,
      hostname: /./,
      error: 'must be a redis:// or rediss:// URL with a host',
    })
    .default('redis://127.0.0.1:6379'),
  REDIS_SENTINELS: hostPortList.optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  REDIS_SENTINEL_PASSWORD: secret.optional(),
  REDIS_CLUSTER_NODES: hostPortList.optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,32}$/, 'must be 1-32 letters, digits, "_", "." or "-"')
    .default('csb'),
  REDIS_COMMAND_TIMEOUT_MS: positiveInt.default(2_000),

  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as us-east-1'),
  AWS_ENDPOINT_URL_CONNECT: httpUrl.optional(),
  AWS_ENDPOINT_URL_CONNECTPARTICIPANT: httpUrl.optional(),
  AWS_ENDPOINT_URL_SNS: httpUrl.optional(),
  CONNECT_INSTANCE_ID: z.string().min(1).max(100),
  CONNECT_CONTACT_FLOW_ID: z.string().min(1).max(500),
  CONNECT_STREAMING_TOPIC_ARN: snsTopicArn,
  SNS_CERT_URL_PATTERN: regex.default(
    '^https://sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/SimpleNotificationService-[A-Za-z0-9]+\\.pem$',
  ),

  SNS_TOPIC_ARNS: snsTopicArnList.optional(),
  SNS_SUBSCRIBE_ON_START: z.stringbool({ error: 'must be true or false' }).default(false),

  CHAT_DURATION_MINUTES: z.coerce.number().int().min(60).max(10_080).default(1_500),
  ENDED_GRACE_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(3_600),
  PERSISTENT_CHAT_DAYS: z.coerce.number().int().min(0).max(365).default(0),
  INBOUND_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(50),
  INBOUND_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
  OUTBOUND_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(50),
  OUTBOUND_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
  OUTBOUND_ORDER_WINDOW_MS: z.coerce.number().int().min(0).max(10_000).default(250),
  OUTBOUND_TRANSCRIPT_CHECK: z.stringbool({ error: 'must be true or false' }).default(true),
  OUTBOUND_END_WINDOW_MS: z.coerce.number().int().min(0).max(600_000).default(5_000),
  OUTBOUND_ENDED_CONTACT_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  JOB_LOCK_SECONDS: z.coerce.number().int().min(5).max(600).default(30),
  AGENT_JOINED_MESSAGE: z.string().trim().min(1).max(1_000).optional(),
  CHAT_ENDED_MESSAGE: z.string().trim().min(1).max(1_000).optional(),

  SCHEDULER_LEASE_SECONDS: z.coerce.number().int().min(2).max(600).default(30),
  SCHEDULER_CONNECT_CALLS_PER_SECOND: z.coerce.number().positive().max(100).default(1),
  CREDENTIAL_REFRESH_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3_600).default(60),
  // Connection tokens last a day: refreshing further ahead would refresh them on every run.
  CREDENTIAL_REFRESH_AHEAD_SECONDS: z.coerce.number().int().min(1).max(43_200).default(3_600),
  IDLE_TIMEOUT_MINUTES: z.coerce.number().min(0).max(10_080).default(0),
  IDLE_ENDED_MESSAGE: z.string().trim().min(1).max(1_000).optional(),

  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex digits')
    .optional(),
  TWILIO_AUTH_TOKEN: secret.optional(),
  TWILIO_API_BASE_URL: httpUrl.default('https://api.twilio.com'),

  WHATSAPP_ACCESS_TOKEN: secret.optional(),
  WHATSAPP_APP_SECRET: secret.optional(),
  WHATSAPP_VERIFY_TOKEN: secret.optional(),
  WHATSAPP_GRAPH_API_BASE_URL: httpUrl.default('https://graph.facebook.com/v23.0'),

  GENERIC_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  GENERIC_CALLBACK_URL: httpUrl.optional(),

  ADMIN_API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TOKEN_ENCRYPTION_KEY: encryptionKey.optional(),
});

export type ConfigVariables = z.infer<typeof configSchema>;
export type ConfigVariable = keyof typeof configSchema.shape;

type Check = (
  env: ConfigVariables,
  problem: (variable: ConfigVariable, message: string) => void,
) => void;

/** Rules that span several variables. */
const crossChecks: Check[] = [
  (env, problem) => {
    if (env.REDIS_SENTINELS && env.REDIS_CLUSTER_NODES) {
      problem('REDIS_CLUSTER_NODES', 'cannot be combined with REDIS_SENTINELS');
    }
    if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_NAME) {
      problem('REDIS_SENTINEL_NAME', 'is required when REDIS_SENTINELS is set');
    }
  },
  (env, problem) => {
    if (env.SNS_SUBSCRIBE_ON_START && !env.PUBLIC_BASE_URL) {
      problem('PUBLIC_BASE_URL', 'is required when SNS_SUBSCRIBE_ON_START is true');
    }
    if (env.SNS_TOPIC_ARNS && !env.SNS_TOPIC_ARNS.includes(env.CONNECT_STREAMING_TOPIC_ARN)) {
      problem('SNS_TOPIC_ARNS', 'must include CONNECT_STREAMING_TOPIC_ARN');
    }
  },
  (env, problem) => {
    if (Boolean(env.TWILIO_ACCOUNT_SID) !== Boolean(env.TWILIO_AUTH_TOKEN)) {
      problem(
        env.TWILIO_ACCOUNT_SID ? 'TWILIO_AUTH_TOKEN' : 'TWILIO_ACCOUNT_SID',
        'is required when the other Twilio credential is set',
      );
    }
    if (env.TWILIO_ACCOUNT_SID && !env.PUBLIC_BASE_URL) {
      problem('PUBLIC_BASE_URL', 'is required by the Twilio channel (it signs its public URL)');
    }
  },
  (env, problem) => {
    if (env.GENERIC_CALLBACK_URL && !env.GENERIC_WEBHOOK_SECRET) {
      problem('GENERIC_WEBHOOK_SECRET', 'is required when GENERIC_CALLBACK_URL is set');
    }
  },
  (env, problem) => {
    const whatsapp = [
      'WHATSAPP_ACCESS_TOKEN',
      'WHATSAPP_APP_SECRET',
      'WHATSAPP_VERIFY_TOKEN',
    ] as const;
    const set = whatsapp.filter((variable) => env[variable]);
    if (set.length > 0 && set.length < whatsapp.length) {
      for (const variable of whatsapp.filter((name) => !env[name])) {
        problem(variable, 'is required when any WhatsApp credential is set');
      }
    }
  },
];

export const validatedConfigSchema = configSchema.superRefine((env, ctx) => {
  for (const check of crossChecks) {
    check(env, (variable, message) => ctx.addIssue({ code: 'custom', path: [variable], message }));
  }
});
