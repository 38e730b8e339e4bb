import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The process's Prometheus registry; every module registers its metrics here. */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  private readonly httpDuration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'HTTP requests by method, matched route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  private readonly webhookRejections = this.counter(
    'csb_webhook_rejections_total',
    'Webhook requests refused, by webhook (twilio, whatsapp, generic, connect) and reason',
    ['webhook', 'reason'],
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** A counter in this registry. */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** A histogram in this registry; `buckets` in seconds. */
  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: number[],
  ): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  /**
   * A gauge read when Prometheus scrapes: `read` sets its values (it may ask Redis). A failed
   * read leaves the gauge out of that scrape rather than failing the whole page.
   */
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: (gauge: Gauge<L>) => Promise<void>,
  ): Gauge<L> {
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        await read(this).catch(() => undefined);
      },
    });
  }

  /** Times every request, including those refused before routing (label `route="unmatched"`). */
  readonly httpMiddleware = (req: Request, res: Response, next: NextFunction): void => {
    const stop = this.httpDuration.startTimer();
    res.once('finish', () => {
      const route: unknown = (req.route as { path?: unknown } | undefined)?.path;
      stop({
        method: req.method,
        route: typeof route === 'string' ? route : 'unmatched',
        status_code: String(res.statusCode),
      });
      const webhook = WEBHOOK_PATH.exec(req.originalUrl)?.[1];
      const reason = REJECTION_REASONS[res.statusCode];
      if (webhook && reason) this.webhookRejections.inc({ webhook, reason });
    });
    next();
  };
}

const WEBHOOK_PATH = /^\/webhooks\/(twilio|whatsapp|generic|connect)(?:[/?]|$)/;

/** Every refusal a webhook answers, whichever layer refused it (body parser, guard, handler). */
const REJECTION_REASONS: Partial<Record<number, string>> = {
  400: 'invalid',
  401: 'signature',
  403: 'unverified',
  404: 'disabled',
  413: 'too-large',
  415: 'unsupported-media-type',
  503: 'unavailable',
};
