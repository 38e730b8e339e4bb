import { ChannelSendError, type OutboundMessage } from '../channel-adapter';

type MediaType = 'image' | 'video' | 'audio' | 'document';

/** The types WhatsApp plays inline; any other file goes as a document. */
const INLINE_MEDIA = new Map<string, MediaType>([
  ['image/jpeg', 'image'],
  ['image/png', 'image'],
  ['video/mp4', 'video'],
  ['video/3gpp', 'video'],
]);

function mediaTypeOf(contentType: string): MediaType {
  const essence = contentType.split(';')[0].trim().toLowerCase();
  if (essence.startsWith('audio/')) return 'audio';
  return INLINE_MEDIA.get(essence) ?? 'document';
}

/**
 * The Cloud API body for `POST /<phone number id>/messages`: a text, or one file by link with
 * the text as its caption. Throws a permanent ChannelSendError for what WhatsApp cannot carry
 * in one message: several files, or a text with an audio file (audio takes no caption).
 */
export function sendPayload(message: OutboundMessage): Record<string, unknown> {
  const envelope = {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: message.customerAddress,
  };
  const { text, attachments } = message;
  if (attachments.length > 1) {
    throw new ChannelSendError(false, 'a WhatsApp message carries at most one file');
  }
  const [file] = attachments;
  if (!file) {
    if (!text) throw new ChannelSendError(false, 'the message has neither text nor a file');
    return { ...envelope, type: 'text', text: { body: text, preview_url: true } };
  }
  const type = mediaTypeOf(file.contentType);
  if (type === 'audio' && text) {
    throw new ChannelSendError(false, 'WhatsApp audio cannot carry a caption; send the text apart');
  }
  const media = {
    link: file.url,
    ...(text ? { caption: text } : {}),
    ...(type === 'document' && file.name ? { filename: file.name } : {}),
  };
  return { ...envelope, type, [type]: media };
}
