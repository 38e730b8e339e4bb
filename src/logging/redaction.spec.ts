import { Writable } from 'node:stream';
import { createRootLogger } from './logger';
import { maskPhone, maskPhonesInText, redactUrl } from './redaction';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createRootLogger('info', destination), lines };
}

describe('log redaction', () => {
  it('masks tokens, secrets, auth headers and phone numbers at any depth it covers', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        token: 'tok-top',
        authorization: 'Bearer admin-secret',
        headers: {
          'x-twilio-signature': 'sig-1',
          'x-amz-bearer': 'bearer-1',
          'content-type': 'text/plain',
        },
        conversation: {
          From: '+15551234567',
          customerAddress: 'whatsapp:+447700900123',
          credentials: {
            ConnectionToken: 'conn-secret',
            ParticipantToken: 'part-secret',
            Expiry: '2026-11-22',
          },
          contacts: [{ participantToken: 'in-array-secret', contactId: 'c-1' }],
        },
        twilio: { authToken: 'tw-secret', accountSid: 'AC1' },
        whatsapp: { appSecret: 'app-secret', accessToken: 'wa-secret' },
      },
      'conversation opened',
    );
    const line = JSON.stringify(lines[0]);
    for (const secret of [
      'tok-top',
      'admin-secret',
      'sig-1',
      'bearer-1',
      'conn-secret',
      'part-secret',
      'in-array-secret',
      'tw-secret',
      'app-secret',
      'wa-secret',
      '5551234567',
      '7700900123',
    ]) {
      expect(line).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({
      token: '[REDACTED]',
      headers: { 'x-twilio-signature': '[REDACTED]', 'content-type': 'text/plain' },
      conversation: {
        From: '+15******567',
        customerAddress: 'whatsapp:+44*******123',
        credentials: { ConnectionToken: '[REDACTED]', Expiry: '2026-11-22' },
        contacts: [{ participantToken: '[REDACTED]', contactId: 'c-1' }],
      },
      twilio: { accountSid: 'AC1' },
    });
  });

  it('masks phone numbers written into the message text', () => {
    const { logger, lines } = capture();
    logger.warn('no conversation for +15551234567 on whatsapp:+447700900123');
    expect(lines[0].msg).toBe('no conversation for +15******567 on whatsapp:+44*******123');
  });

  it('leaves absent fields absent', () => {
    const { logger, lines } = capture();
    logger.info({ contactId: 'c-1', token: undefined }, 'x');
    expect(lines[0]).not.toHaveProperty('token');
    expect(lines[0].contactId).toBe('c-1');
  });
});

describe('maskPhone', () => {
  it.each([
    ['+15551234567', '+15******567'],
    ['whatsapp:+447700900123', 'whatsapp:+44*******123'],
    ['15551234567', '15******567'],
    ['+1 555 123 4567', '+15******567'],
    ['12345', '***45'],
    ['customer@example.com', 'cu****'],
    [15551234567, '15******567'],
  ])('%p → %p', (input, masked) => {
    expect(maskPhone(input)).toBe(masked);
  });

  it('leaves ids and timestamps in text alone', () => {
    expect(maskPhonesInText('job 1234567890 at 2026-11-21T10:00:00Z')).toBe(
      'job 1234567890 at 2026-11-21T10:00:00Z',
    );
  });
});

describe('redactUrl', () => {
  it('replaces secret-looking query parameters and keeps the rest', () => {
    expect(
      redactUrl('/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=s3cret&hub.challenge=42'),
    ).toBe(
      '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=%5BREDACTED%5D&hub.challenge=42',
    );
    expect(redactUrl('/health/ready')).toBe('/health/ready');
  });

  it('masks phone numbers in query parameters named like addresses', () => {
    expect(redactUrl('/admin/conversations?customer=%2B15550003001&channel=twilio%3Asms')).toBe(
      `/admin/conversations?customer=${encodeURIComponent(maskPhone('+15550003001'))}&channel=twilio%3Asms`,
    );
    expect(redactUrl('/admin/conversations?customer=%2B15550003001')).not.toContain('0003001');
  });
});
