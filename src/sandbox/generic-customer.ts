import { signGenericBody } from '../channels';

export interface GenericCustomerMessage {
  messageId: string;
  from: string;
  to: string;
  text?: string;
  displayName?: string;
  attachments?: { url: string; contentType: string; name?: string }[];
}

/** Posts a customer's message to the bridge's generic channel, signed as an in-house app does. */
export function sendGenericMessage(
  bridgeUrl: string,
  secret: string,
  message: GenericCustomerMessage,
  channel = 'app',
): Promise<Response> {
  const body = JSON.stringify(message);
  return fetch(`${bridgeUrl}/webhooks/generic/${channel}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-signature-256': signGenericBody(secret, body),
    },
    body,
  });
}
