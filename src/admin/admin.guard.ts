import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AdminAccess } from './admin-access';

/** The admin routes' door: the bearer token, or a console session (see AdminAccess). */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly access: AdminAccess) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    this.access.authorize(http.getRequest<Request>(), http.getResponse<Response>());
    return true;
  }
}
