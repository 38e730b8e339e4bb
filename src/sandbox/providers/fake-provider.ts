import express, { type Express, type RequestHandler, type Response } from 'express';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { MessageCapture } from './capture';

export interface FakeServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
}

const faultSchema = z.union([
  z.strictObject({ unreachable: z.literal(true), times: z.int().positive().default(1) }),
  z.strictObject({
    status: z.int().min(400).max(599),
    code: z.int().optional(),
    message: z.string().min(1).optional(),
    times: z.int().positive().default(1),
  }),
]);

/**
 * How the next `times` (default 1) send calls fail: an HTTP error in the provider's error shape
 * (code and message default from the status), or `unreachable`: the connection is dropped
 * without an answer.
 */
export type Fault = z.input<typeof faultSchema>;

/** An error answer; the provider fills in the code and message it would use for the status. */
export interface ProviderError {
  status: number;
  code?: number;
  message?: string;
}

type SendError = (res: Response, error: ProviderError) => void;

class FaultQueue {
  private pending: z.output<typeof faultSchema>[] = [];

  add(fault: Fault): void {
    this.pending.push(faultSchema.parse(fault));
  }

  clear(): void {
    this.pending = [];
  }

  /** Fails the request with the next pending fault, if any; otherwise passes it on. */
  inject(sendError: SendError): RequestHandler {
    return (req, res, next) => {
      const fault = this.pending[0];
      if (fault === undefined) return next();
      fault.times -= 1;
      if (fault.times === 0) this.pending.shift();
      if ('unreachable' in fault) req.socket.destroy();
      else sendError(res, fault);
    };
  }
}

/** What a provider's routes need: where to record accepted messages and the pending faults. */
export interface FakeContext<T> {
  capture: MessageCapture<T>;
  faults: FaultQueue;
}

/** A started fake server, as {@link FakeProvider}'s constructor takes it. */
export interface FakeServer<T> extends FakeContext<T> {
  server: Server;
  url: string;
}

/**
 * Starts an HTTP server with the inspection API under `/_fake` and the provider's own routes:
 * `GET|DELETE /_fake/messages` lists or clears the captured messages, `POST /_fake/faults` queues
 * a {@link Fault}, `DELETE /_fake/faults` drops the pending ones.
 */
export async function startFakeServer<T>(
  label: string,
  options: FakeServerOptions,
  mountProviderRoutes: (app: Express, context: FakeContext<T>) => void,
): Promise<FakeServer<T>> {
  const capture = new MessageCapture<T>(label);
  const faults = new FaultQueue();
  const app = express();
  app.use('/_fake', inspectionRoutes(capture, faults));
  mountProviderRoutes(app, { capture, faults });

  const host = options.host ?? '127.0.0.1';
  const server = createServer(app);
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { capture, faults, server, url };
}

function inspectionRoutes<T>(capture: MessageCapture<T>, faults: FaultQueue): express.Router {
  const router = express.Router();
  router.get('/messages', (_req, res) => {
    res.json({ messages: capture.all() });
  });
  router.delete('/messages', (_req, res) => {
    capture.clear();
    res.status(204).end();
  });
  router.post('/faults', express.json(), (req, res) => {
    const fault = faultSchema.safeParse(req.body);
    if (!fault.success) {
      res.status(400).json({ error: z.prettifyError(fault.error) });
      return;
    }
    faults.add(fault.data);
    res.status(204).end();
  });
  router.delete('/faults', (_req, res) => {
    faults.clear();
    res.status(204).end();
  });
  return router;
}

/** The programmatic side of a fake: its address, the captured messages and fault controls. */
export abstract class FakeProvider<T> {
  readonly url: string;
  private readonly server: Server;
  private readonly capture: MessageCapture<T>;
  private readonly faults: FaultQueue;

  protected constructor({ url, server, capture, faults }: FakeServer<T>) {
    this.url = url;
    this.server = server;
    this.capture = capture;
    this.faults = faults;
  }

  /** The accepted messages, oldest first. Refused requests are not captured. */
  messages(): T[] {
    return this.capture.all();
  }

  clearMessages(): void {
    this.capture.clear();
  }

  /** Resolves with all captured messages once there are at least `count`. */
  waitForMessages(count: number, timeoutMs = 5_000): Promise<T[]> {
    return this.capture.waitFor(count, timeoutMs);
  }

  /** Queues a fault for the next send calls; faults queued together apply one after another. */
  failNext(fault: Fault): void {
    this.faults.add(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /**
   * Stops listening, so the provider refuses connections until `comeBack()`. Requests in flight
   * are answered first: nothing is accepted without its answer reaching the caller.
   */
  async goAway(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
    const closeIdle = setInterval(() => this.server.closeIdleConnections(), 20);
    this.server.closeIdleConnections();
    await closed.finally(() => clearInterval(closeIdle));
  }

  /** Listens again at the same address after `goAway()`. */
  async comeBack(): Promise<void> {
    if (this.server.listening) return;
    const { hostname, port } = new URL(this.url);
    this.server.listen(Number(port), hostname.replace(/^\[|\]$/g, ''));
    await once(this.server, 'listening');
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
    // Keep-alive connections (fetch pools them) would otherwise hold close() open.
    this.server.closeAllConnections();
    await closed;
  }
}
