import express, { type Response } from 'express';
import { randomUUID } from 'node:crypto';
import { signatureMatches, signGenericBody } from '../../channels';
import {
  FakeProvider,
  type FakeServer,
  type FakeServerOptions,
  type ProviderError,
  startFakeServer,
} from './fake-provider';
import { MediaStore } from './media-store';

export interface FakeGenericAppOptions extends FakeServerOptions {
  /** GENERIC_WEBHOOK_SECRET: callbacks without a matching X-Signature-256 get 401. */
  secret: string;
}

/** A callback as the bridge POSTs it to GENERIC_CALLBACK_URL. */
export interface CapturedGenericMessage {
  messageId: string;
  channel: string;
  from: string;
  to: string;
  text?: string;
  attachments: { url: string; contentType: string; name?: string }[];
  receivedAt: string;
}

/**
 * An in-house app on the generic channel: `POST /callback` takes the bridge's signed callbacks
 * (`GENERIC_CALLBACK_URL=<url>/callback`); `GET /files/:id` serves what its customers upload.
 */
export class FakeGenericApp extends FakeProvider<CapturedGenericMessage> {
  static async start(options: FakeGenericAppOptions): Promise<FakeGenericApp> {
    const files = new MediaStore('FakeGenericApp');
    const server = await startFakeServer<CapturedGenericMessage>(
      'FakeGenericApp',
      options,
      (app, { capture, faults }) => {
        app.get('/files/:id', (req, res) => {
          files.serve(res, { id: req.params.id, authorized: true }, (refused, status) =>
            sendError(refused, { status }),
          );
        });
        app.post(
          '/callback',
          express.raw({ type: () => true, limit: '1mb' }),
          faults.inject(sendError),
          (req, res) => {
            const body = req.body as Buffer;
            if (!signedBy(options.secret, body, req.get('x-signature-256'))) {
              sendError(res, { status: 401, message: 'bad signature' });
              return;
            }
            const message = JSON.parse(body.toString('utf8')) as CapturedGenericMessage;
            capture.record({ ...message, receivedAt: new Date().toISOString() });
            res.status(200).json({ received: message.messageId });
          },
        );
      },
    );
    return new FakeGenericApp(server, files);
  }

  private constructor(
    server: FakeServer<CapturedGenericMessage>,
    private readonly files: MediaStore,
  ) {
    super(server);
  }

  get callbackUrl(): string {
    return `${this.url}/callback`;
  }

  /** Serves a customer's upload; the URL goes in a webhook's `attachments`. */
  hostFile(content: Buffer, contentType: string): string {
    const { id } = this.files.add(randomUUID(), content, contentType);
    return `${this.url}/files/${id}`;
  }
}

function signedBy(secret: string, body: Buffer, signature: string | undefined): boolean {
  return signatureMatches(signature, signGenericBody(secret, body));
}

function sendError(res: Response, error: ProviderError): void {
  res.status(error.status).json({ error: error.message ?? `HTTP ${error.status}` });
}
