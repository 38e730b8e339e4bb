import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ContactCenter } from './contact-center';
import { controlRoutes } from './control-routes';
import { FaultInjector, type FaultPlan } from './faults';
import type { ChatItem, Contact } from './model';
import { type RecordedRequest, serviceRoutes } from './service-routes';
import { SnsService } from './sns/sns-service';

export const EMULATOR_DEFAULTS = {
  region: 'us-east-1',
  accountId: '123456789012',
  instanceId: '8f7e6d5c-4b3a-4f2e-9d1c-0b1a2c3d4e5f',
  contactFlowId: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  topicName: 'connect-chat-stream',
};

export interface EmulatorOptions {
  port?: number;
  host?: string;
  region?: string;
  accountId?: string;
  instanceId?: string;
  contactFlowIds?: string[];
  /** Topics that exist from the start; by default one, `connect-chat-stream`. */
  topicNames?: string[];
  connectWindowMs?: number;
  connectionTokenTtlMs?: number;
  maxActiveChats?: number;
  maxAttachmentBytes?: number;
  attachmentContentTypes?: string[];
  flowMessages?: string[];
  faults?: FaultPlan;
  snsRetry?: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  now?: () => number;
}

const ATTACHMENT_TYPES = [
  'text/csv',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'image/heic',
  'image/jpeg',
  'image/png',
  'image/gif',
  'video/quicktime',
  'video/mp4',
  'application/pdf',
  'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/rtf',
  'text/plain',
  'audio/wav',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
];

/**
 * Amazon Connect, the Participant Service and SNS on one local HTTP server, driven by the
 * real AWS SDK clients through `AWS_ENDPOINT_URL_*`. Never part of the production app.
 */
export class ConnectEmulator {
  private constructor(
    private readonly server: Server,
    private readonly recorded: RecordedRequest[],
    /** Forgets contacts and recorded requests. */
    readonly reset: () => void,
    readonly url: string,
    readonly region: string,
    readonly accountId: string,
    readonly instanceId: string,
    readonly contactFlowIds: string[],
    readonly center: ContactCenter,
    readonly sns: SnsService,
    readonly faults: FaultInjector,
  ) {}

  static async start(options: EmulatorOptions = {}): Promise<ConnectEmulator> {
    const region = options.region ?? EMULATOR_DEFAULTS.region;
    const accountId = options.accountId ?? EMULATOR_DEFAULTS.accountId;
    const instanceId = options.instanceId ?? EMULATOR_DEFAULTS.instanceId;
    const contactFlowIds = options.contactFlowIds ?? [EMULATOR_DEFAULTS.contactFlowId];
    const faults = new FaultInjector();
    if (options.faults) faults.configure(options.faults);
    let url = '';
    const publicUrl = () => url;
    const sns = await SnsService.create({
      region,
      accountId,
      publicUrl,
      topicArns: (options.topicNames ?? [EMULATOR_DEFAULTS.topicName]).map(
        (name) => `arn:aws:sns:${region}:${accountId}:${name}`,
      ),
      random: faults.snsRandom(),
      faults: () => faults.current().sns,
      retry: options.snsRetry,
    });
    faults.onConfigure(() => sns.reseed(faults.snsRandom()));
    const center = new ContactCenter({
      instanceId,
      contactFlowIds,
      connectWindowMs: options.connectWindowMs ?? 5 * 60_000,
      connectionTokenTtlMs: options.connectionTokenTtlMs ?? 24 * 60 * 60_000,
      maxActiveChats: options.maxActiveChats ?? 10_000,
      maxAttachmentBytes: options.maxAttachmentBytes ?? 20 * 1024 * 1024,
      attachmentContentTypes: options.attachmentContentTypes ?? ATTACHMENT_TYPES,
      flowMessages: options.flowMessages ?? [],
      publicUrl,
      topicExists: (arn) => sns.hasTopic(arn),
      stream: (topicArn, item, contact) => streamItem(sns, topicArn, item, contact, accountId),
      now: options.now ?? Date.now,
    });

    const recorded: RecordedRequest[] = [];
    const app = express();
    app.disable('x-powered-by');
    app.use(serviceRoutes(center, faults, (request) => recorded.push(request)));
    const reset = () => {
      center.reset();
      recorded.length = 0;
    };
    app.use(controlRoutes({ center, faults, sns, requests: () => recorded, reset }));
    app.use(sns.router);

    const server = await new Promise<Server>((resolve) => {
      const listening = app.listen(options.port ?? 0, options.host ?? '127.0.0.1', () =>
        resolve(listening),
      );
    });
    const { address, port } = server.address() as AddressInfo;
    url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
    return new ConnectEmulator(
      server,
      recorded,
      reset,
      url,
      region,
      accountId,
      instanceId,
      contactFlowIds,
      center,
      sns,
      faults,
    );
  }

  get topicArn(): string {
    return `arn:aws:sns:${this.region}:${this.accountId}:${EMULATOR_DEFAULTS.topicName}`;
  }

  /**
   * The bridge's variables that point it at this emulator: static credentials, no instance
   * metadata, every AWS endpoint here, the instance, flow and topic, and the certificate URL.
   */
  bridgeEnvironment(): Record<string, string> {
    return {
      AWS_REGION: this.region,
      AWS_ACCESS_KEY_ID: 'emulator',
      AWS_SECRET_ACCESS_KEY: 'emulator',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_CONNECT: this.url,
      AWS_ENDPOINT_URL_CONNECTPARTICIPANT: this.url,
      AWS_ENDPOINT_URL_SNS: this.url,
      CONNECT_INSTANCE_ID: this.instanceId,
      CONNECT_CONTACT_FLOW_ID: this.contactFlowIds[0],
      CONNECT_STREAMING_TOPIC_ARN: this.topicArn,
      SNS_CERT_URL_PATTERN: `^${this.url.replace(/[.]/g, '\\.')}/SimpleNotificationService-[A-Za-z0-9]+\\.pem$`,
    };
  }

  requests(operation?: string): RecordedRequest[] {
    return this.recorded.filter((request) => !operation || request.operation === operation);
  }

  async close(): Promise<void> {
    this.sns.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Connect's stream format: the item as the Message, routing facts as message attributes. */
function streamItem(
  sns: SnsService,
  topicArn: string,
  item: ChatItem,
  contact: Contact,
  accountId: string,
): void {
  const { visibility, ...body } = item;
  sns.publish(topicArn, JSON.stringify(body), {
    InitialContactId: item.InitialContactId,
    ContactId: item.ContactId,
    MessageVisibility: visibility,
    Type: item.Type,
    ...(item.ParticipantRole ? { ParticipantRole: item.ParticipantRole } : {}),
    ContentType: item.ContentType,
    InstanceId: contact.instanceId,
    AccountId: accountId,
  });
}
