import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { MessageCapture } from './capture';

/** A request as it reached the receiver, with its body's exact bytes. */
export interface ReceivedRequest {
  method: string;
  /** Path and query as requested. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface ReceiverAnswer {
  status: number;
  body?: string;
}

/**
 * A stand-in for the bridge's webhook endpoints: records every request and answers 200, or
 * what `answer` says.
 */
export class WebhookReceiver {
  private readonly received = new MessageCapture<ReceivedRequest>('WebhookReceiver', 'request');
  /** Decides the answer to each request; the default accepts everything. */
  answer: (request: ReceivedRequest) => ReceiverAnswer = () => ({ status: 200 });

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}`);
    server.on('request', (req, res) => receiver.receive(req, res));
    return receiver;
  }

  requests(): ReceivedRequest[] {
    return this.received.all();
  }

  waitForRequests(count: number, timeoutMs = 5_000): Promise<ReceivedRequest[]> {
    return this.received.waitFor(count, timeoutMs);
  }

  /** Forgets the requests and goes back to answering 200. */
  clear(): void {
    this.received.clear();
    this.answer = () => ({ status: 200 });
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      this.received.record(request);
      const { status, body = '' } = this.answer(request);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}
