import { configSchema, type ConfigVariables, validatedConfigSchema } from './config.schema';

export interface ConfigProblem {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable} ${p.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

export interface HostPort {
  host: string;
  port: number;
}

export type RedisTopology =
  | { kind: 'standalone' }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string; sentinelPassword?: string }
  | { kind: 'cluster'; nodes: HostPort[] };

/** The typed configuration; the only place that reads `process.env` is `AppConfig.fromEnv`. */
export class AppConfig {
  readonly http: {
    port: number;
    publicBaseUrl?: string;
    maxBodyBytes: number;
    shutdownTimeoutMs: number;
  };
  readonly logLevel: ConfigVariables['LOG_LEVEL'];
  readonly redis: {
    url: string;
    topology: RedisTopology;
    keyPrefix: string;
    commandTimeoutMs: number;
  };
  readonly aws: { region: string };
  readonly connect: { instanceId: string; contactFlowId: string; streamingTopicArn: string };
  readonly sns: {
    certUrlPattern: RegExp;
    /** Topics whose messages the SNS endpoint accepts (and subscribes to on start). */
    topicArns: string[];
    subscribeOnStart: boolean;
  };
  readonly chat: { durationMinutes: number; persistentChatDays: number; endedGraceSeconds: number };
  readonly relay: {
    inboundConcurrency: number;
    inboundAttempts: number;
    outboundConcurrency: number;
    outboundAttempts: number;
    /** How long an agent message waits for earlier ones that SNS delivers late. */
    outboundOrderWindowMs: number;
    /**
     * Before sending a stream item, read the customer's transcript for earlier items SNS has not
     * delivered yet, and send those first.
     */
    transcriptCheck: boolean;
    /** How long a chat-ended item waits for earlier items (at least the order window). */
    endNoticeWindowMs: number;
    /** How long a new contact's items wait for the late chat-ended item of the one before. */
    endedContactWaitMs: number;
    /** A worker's lock on the job it runs; a dead process's jobs are taken up after 1–2× this. */
    jobLockMs: number;
  };
  /** Texts the bridge itself sends the customer; `{name}` in agentJoined is the agent's name. */
  readonly notices: { agentJoined?: string; chatEnded?: string; idleEnded?: string };
  readonly scheduler: {
    /** How long a replica leads a sweep without renewing its lease. */
    leaseMs: number;
    /** Participant Service calls one sweep makes per second at most. */
    connectCallsPerSecond: number;
    credentialRefreshIntervalMs: number;
    /** Credentials expiring within this much time are refreshed. */
    credentialRefreshAheadMs: number;
    /** Conversations without a message either way for this long are ended; 0 is off. */
    idleTimeoutMs: number;
  };
  readonly twilio?: { accountSid: string; authToken: string; apiBaseUrl: string };
  readonly whatsapp?: {
    accessToken: string;
    appSecret: string;
    verifyToken: string;
    graphApiBaseUrl: string;
  };
  readonly generic?: { webhookSecret: string; callbackUrl?: string };
  readonly admin: { apiToken?: string };
  readonly tokenEncryptionKey?: Buffer;

  private constructor(env: ConfigVariables) {
    this.http = {
      port: env.PORT,
      publicBaseUrl: env.PUBLIC_BASE_URL?.replace(/\/+$/, ''),
      maxBodyBytes: env.MAX_BODY_BYTES,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    };
    this.logLevel = env.LOG_LEVEL;
    this.redis = {
      url: env.REDIS_URL,
      topology: redisTopology(env),
      keyPrefix: env.REDIS_KEY_PREFIX,
      commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
    };
    this.aws = { region: env.AWS_REGION };
    this.connect = {
      instanceId: env.CONNECT_INSTANCE_ID,
      contactFlowId: env.CONNECT_CONTACT_FLOW_ID,
      streamingTopicArn: env.CONNECT_STREAMING_TOPIC_ARN,
    };
    this.sns = {
      certUrlPattern: new RegExp(env.SNS_CERT_URL_PATTERN),
      topicArns: env.SNS_TOPIC_ARNS ?? [env.CONNECT_STREAMING_TOPIC_ARN],
      subscribeOnStart: env.SNS_SUBSCRIBE_ON_START,
    };
    this.chat = {
      durationMinutes: env.CHAT_DURATION_MINUTES,
      persistentChatDays: env.PERSISTENT_CHAT_DAYS,
      endedGraceSeconds: env.ENDED_GRACE_SECONDS,
    };
    this.relay = {
      inboundConcurrency: env.INBOUND_CONCURRENCY,
      inboundAttempts: env.INBOUND_ATTEMPTS,
      outboundConcurrency: env.OUTBOUND_CONCURRENCY,
      outboundAttempts: env.OUTBOUND_ATTEMPTS,
      outboundOrderWindowMs: env.OUTBOUND_ORDER_WINDOW_MS,
      transcriptCheck: env.OUTBOUND_TRANSCRIPT_CHECK,
      endNoticeWindowMs: env.OUTBOUND_END_WINDOW_MS,
      endedContactWaitMs: env.OUTBOUND_ENDED_CONTACT_WAIT_MS,
      jobLockMs: env.JOB_LOCK_SECONDS * 1_000,
    };
    this.notices = {
      agentJoined: env.AGENT_JOINED_MESSAGE,
      chatEnded: env.CHAT_ENDED_MESSAGE,
      idleEnded: env.IDLE_ENDED_MESSAGE,
    };
    this.scheduler = {
      leaseMs: env.SCHEDULER_LEASE_SECONDS * 1_000,
      connectCallsPerSecond: env.SCHEDULER_CONNECT_CALLS_PER_SECOND,
      credentialRefreshIntervalMs: env.CREDENTIAL_REFRESH_INTERVAL_SECONDS * 1_000,
      credentialRefreshAheadMs: env.CREDENTIAL_REFRESH_AHEAD_SECONDS * 1_000,
      idleTimeoutMs: Math.round(env.IDLE_TIMEOUT_MINUTES * 60_000),
    };
    if (env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN) {
      this.twilio = {
        accountSid: env.TWILIO_ACCOUNT_SID,
        authToken: env.TWILIO_AUTH_TOKEN,
        apiBaseUrl: env.TWILIO_API_BASE_URL.replace(/\/+$/, ''),
      };
    }
    if (env.WHATSAPP_ACCESS_TOKEN && env.WHATSAPP_APP_SECRET && env.WHATSAPP_VERIFY_TOKEN) {
      this.whatsapp = {
        accessToken: env.WHATSAPP_ACCESS_TOKEN,
        appSecret: env.WHATSAPP_APP_SECRET,
        verifyToken: env.WHATSAPP_VERIFY_TOKEN,
        graphApiBaseUrl: env.WHATSAPP_GRAPH_API_BASE_URL.replace(/\/+$/, ''),
      };
    }
    if (env.GENERIC_WEBHOOK_SECRET) {
      this.generic = {
        webhookSecret: env.GENERIC_WEBHOOK_SECRET,
        callbackUrl: env.GENERIC_CALLBACK_URL,
      };
    }
    this.admin = { apiToken: env.ADMIN_API_TOKEN };
    this.tokenEncryptionKey = env.TOKEN_ENCRYPTION_KEY;
  }

  /** Validates the environment; throws a ConfigError naming every bad variable. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {
    const known = Object.fromEntries(
      Object.keys(configSchema.shape)
        .map((variable) => [variable, env[variable]?.trim()] as const)
        .filter(([, value]) => value !== undefined && value !== ''),
    );
    const parsed = validatedConfigSchema.safeParse(known);
    if (!parsed.success) {
      throw new ConfigError(
        parsed.error.issues.map((issue) => {
          const variable = String(issue.path[0] ?? 'environment');
          const missing = issue.code === 'invalid_type' && !(variable in known);
          return { variable, message: missing ? 'is required' : issue.message };
        }),
      );
    }
    return new AppConfig(parsed.data);
  }
}

function redisTopology(env: ConfigVariables): RedisTopology {
  const toHostPort = (entry: string): HostPort => {
    const separator = entry.lastIndexOf(':');
    return { host: entry.slice(0, separator), port: Number(entry.slice(separator + 1)) };
  };
  if (env.REDIS_SENTINELS && env.REDIS_SENTINEL_NAME) {
    return {
      kind: 'sentinel',
      sentinels: env.REDIS_SENTINELS.map(toHostPort),
      name: env.REDIS_SENTINEL_NAME,
      sentinelPassword: env.REDIS_SENTINEL_PASSWORD,
    };
  }
  if (env.REDIS_CLUSTER_NODES) {
    return { kind: 'cluster', nodes: env.REDIS_CLUSTER_NODES.map(toHostPort) };
  }
  return { kind: 'standalone' };
}
