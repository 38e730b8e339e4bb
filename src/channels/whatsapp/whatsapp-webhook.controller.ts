import { Controller } from '@nestjs/common';

@Controller('webhooks/whatsapp')
export class WhatsAppWebhookController {}
