import {
  Body,
  Controller,
  Get,
  Logger,
  Post,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { AdminAccess } from './admin-access';
import { CONSOLE_PATH, LOGIN_PATH, LOGOUT_PATH } from './admin-paths';
import { AdminGuard } from './admin.guard';
import { sendPage } from './console-layout';
import { loginPage } from './console-pages';
import { LoginRedirectFilter } from './login-redirect.filter';

/** The console's login with ADMIN_API_TOKEN, and its logout. */
@Controller()
export class ConsoleLoginController {
  private readonly logger = new Logger(ConsoleLoginController.name);

  constructor(private readonly access: AdminAccess) {}

  @Get(LOGIN_PATH)
  form(@Req() req: Request, @Res() res: Response): void {
    this.access.assertEnabled(req);
    sendPage(res, loginPage(false));
  }

  @Post(LOGIN_PATH)
  logIn(@Req() req: Request, @Res() res: Response, @Body('token') token: unknown): void {
    if (!this.access.logIn(req, res, token)) {
      sendPage(res, loginPage(true), 401);
      return;
    }
    this.logger.log('an operator logged in to the console');
    res.redirect(303, CONSOLE_PATH);
  }

  @Post(LOGOUT_PATH)
  @UseGuards(AdminGuard)
  @UseFilters(LoginRedirectFilter)
  logOut(@Req() req: Request, @Res() res: Response): void {
    this.access.logOut(req, res);
    res.redirect(303, LOGIN_PATH);
  }
}
