import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** A counter in this registry. */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
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
    });
    next();
  };
}
