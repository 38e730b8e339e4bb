import { Controller } from '@nestjs/common';

@Controller('webhooks/twilio')
export class TwilioWebhookController {}
