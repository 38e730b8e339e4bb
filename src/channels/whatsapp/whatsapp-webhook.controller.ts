import {
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  NotFoundException,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import type { RawBodyRequest } from '../../http';
import { type WebhookOutcome, WebhookPipeline } from '../webhook-pipeline';
import { WhatsAppChannel } from './whatsapp-channel';

/**
 * The WhatsApp Cloud API webhook: Meta's subscription check (GET) and its notifications (POST).
 * Express leaves `hub.mode` and its siblings as literal query keys.
 */
@Controller('webhooks/whatsapp')
export class WhatsAppWebhookController {
  constructor(
    private readonly channel: WhatsAppChannel,
    private readonly pipeline: WebhookPipeline,
  ) {}

  @Get()
  subscribe(
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) res: Response,
  ): string {
    this.requireEnabled();
    const challenge = this.channel.verifySubscription(query);
    if (challenge === undefined) {
      throw new ForbiddenException('hub.mode or hub.verify_token does not match');
    }
    res.type('text/plain');
    return challenge;
  }

  @Post()
  @HttpCode(200)
  receive(@Req() req: Request & RawBodyRequest): Promise<WebhookOutcome> {
    this.requireEnabled();
    return this.pipeline.handle(this.channel, req);
  }

  private requireEnabled(): void {
    if (!this.channel.enabled) {
      throw new NotFoundException(
        'the WhatsApp channel is not enabled (WHATSAPP_ACCESS_TOKEN, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN)',
      );
    }
  }
}
