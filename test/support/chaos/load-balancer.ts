import http from 'node:http';
import { listenLocally, type LocalServer } from '../local-server';

export interface LoadBalancerCounts {
  /** Requests answered by a backend (whatever its status). */
  proxied: number;
  /** Requests retried on another backend because one refused the connection. */
  refusedAndRetried: number;
  /** 502: the backend's connection broke after the request reached it. */
  badGateway: number;
  /** 503: no backend in rotation. */
  noBackend: number;
}

/**
 * Round robin over the bridge processes in rotation, as a Kubernetes Service behind an ingress
 * does: a refused connection is tried on the next backend (the request never reached the first),
 * a connection that breaks once the request was sent answers 502 (the backend may have acted on
 * it), and with no backend in rotation the answer is 503.
 */
export class LoadBalancer {
  readonly counts: LoadBalancerCounts = {
    proxied: 0,
    refusedAndRetried: 0,
    badGateway: 0,
    noBackend: 0,
  };
  private readonly backends: number[] = [];
  private next = 0;
  private server?: LocalServer;
  /** No keep-alive: a request to a dead backend is refused, never sent on a stale socket. */
  private readonly agent = new http.Agent({ keepAlive: false });

  static async start(): Promise<LoadBalancer> {
    const balancer = new LoadBalancer();
    balancer.server = await listenLocally(
      http.createServer((req, res) => void balancer.forward(req, res)),
    );
    return balancer;
  }

  get url(): string {
    return this.server!.url;
  }

  add(port: number): void {
    if (!this.backends.includes(port)) this.backends.push(port);
  }

  remove(port: number): void {
    const index = this.backends.indexOf(port);
    if (index >= 0) this.backends.splice(index, 1);
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await this.server?.close();
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    for (let tried = 0; tried < Math.max(1, this.backends.length); tried++) {
      const port = this.pick();
      if (port === undefined) break;
      const outcome = await this.send(port, req, body, res);
      if (outcome !== 'refused') return;
      this.counts.refusedAndRetried += 1;
    }
    this.counts.noBackend += 1;
    res.writeHead(503, { 'content-type': 'text/plain' }).end('no backend');
  }

  private pick(): number | undefined {
    if (this.backends.length === 0) return undefined;
    this.next = (this.next + 1) % this.backends.length;
    return this.backends[this.next];
  }

  private send(
    port: number,
    req: http.IncomingMessage,
    body: Buffer,
    res: http.ServerResponse,
  ): Promise<'answered' | 'refused' | 'broken'> {
    return new Promise((resolve) => {
      const upstream = http.request(
        {
          host: '127.0.0.1',
          port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, 'content-length': String(body.length) },
          agent: this.agent,
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            this.counts.proxied += 1;
            res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(chunks));
            resolve('answered');
          });
          answer.on('error', () => broken());
        },
      );
      const broken = () => {
        if (res.writableEnded) return;
        this.counts.badGateway += 1;
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('bad gateway');
        resolve('broken');
      };
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED') resolve('refused');
        else broken();
      });
      upstream.end(body);
    });
  }
}
