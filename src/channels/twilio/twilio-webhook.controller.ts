import { Controller, HttpCode, NotFoundException, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { RawBodyRequest } from '../../http';
import type { WebhookSource } from '../channel-adapter';
import { WebhookPipeline } from '../webhook-pipeline';
import { TwilioChannel } from './twilio-channel';
import { TwilioStatusWebhook } from './twilio-status-webhook';

/** TwiML that answers nothing: replies go out through the Messages API once an agent writes. */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

@Controller('webhooks/twilio')
export class TwilioWebhookController {
  constructor(
    private readonly channel: TwilioChannel,
    private readonly statusWebhook: TwilioStatusWebhook,
    private readonly pipeline: WebhookPipeline,
  ) {}

  @Post()
  @HttpCode(200)
  receive(
    @Req() req: Request & RawBodyRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    return this.handle(this.channel, req, res);
  }

  @Post('status')
  @HttpCode(200)
  receiveStatus(
    @Req() req: Request & RawBodyRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    return this.handle(this.statusWebhook, req, res);
  }

  /** Errors keep their JSON body; only an accepted webhook is answered with TwiML. */
  private async handle(
    source: WebhookSource,
    req: Request & RawBodyRequest,
    res: Response,
  ): Promise<string> {
    if (!this.channel.enabled) {
      throw new NotFoundException(
        'the Twilio channel is not enabled (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)',
      );
    }
    await this.pipeline.handle(source, req);
    res.type('text/xml');
    return EMPTY_TWIML;
  }
}
