import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppConfig } from '../config';
import { equalInConstantTime } from '../http';

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * The admin API's door: `Authorization: Bearer <ADMIN_API_TOKEN>`, compared in constant time.
 * Without ADMIN_API_TOKEN the admin routes answer as routes that do not exist.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const expected = this.config.admin.apiToken;
    if (expected === undefined)
      throw new NotFoundException(`Cannot ${req.method} ${req.originalUrl}`);
    const given = BEARER.exec(req.headers.authorization ?? '')?.[1];
    if (given !== undefined && equalInConstantTime(given, expected)) return true;
    http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer');
    throw new UnauthorizedException('a valid admin bearer token is required');
  }
}
