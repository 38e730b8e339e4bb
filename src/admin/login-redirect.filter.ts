import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  UnauthorizedException,
} from '@nestjs/common';
import type { Response } from 'express';
import { LOGIN_PATH } from './admin-paths';

/** A browser without a session is sent to the login page rather than given a Bearer challenge. */
@Catch(UnauthorizedException)
export class LoginRedirectFilter implements ExceptionFilter {
  catch(_error: UnauthorizedException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    res.removeHeader('WWW-Authenticate');
    res.redirect(303, LOGIN_PATH);
  }
}
