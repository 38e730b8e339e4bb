import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { RawBodyRequest } from '../src/http';
import { type InProcessBridge, startInProcess } from './support/in-process';

@Controller()
class EchoController {
  @Post(['webhooks/connect', 'echo'])
  @HttpCode(200)
  echo(@Req() req: RawBodyRequest, @Body() body: unknown) {
    return { body, raw: req.rawBody?.toString('utf8') ?? null };
  }
}

describe('body parsing keeps the raw bytes and bounds the size', () => {
  let bridge: InProcessBridge;

  beforeAll(async () => {
    bridge = await startInProcess({
      env: { MAX_BODY_BYTES: '4096' },
      controllers: [EchoController],
    });
  });

  afterAll(async () => {
    await bridge?.app.close();
  });

  const post = (path: string, contentType: string, body: string) =>
    fetch(`${bridge.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });

  it('reads a JSON body sent as text/plain on the SNS endpoint, raw bytes intact', async () => {
    const sent = '{ "Type" : "Notification",\n  "Message": "{\\"a\\":1}" }';
    const res = await post('/webhooks/connect', 'text/plain; charset=UTF-8', sent);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      body: { Type: 'Notification', Message: '{"a":1}' },
      raw: sent,
    });
  });

  it('answers 400 naming the problem when the SNS body is not JSON', async () => {
    const res = await post('/webhooks/connect', 'text/plain', 'Type=Notification');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: 'request body is not valid JSON' });
  });

  it('keeps the raw bytes of JSON and form bodies elsewhere', async () => {
    const json = await post('/echo', 'application/json', '{"b": [1, 2]}');
    expect(await json.json()).toEqual({ body: { b: [1, 2] }, raw: '{"b": [1, 2]}' });
    const form = await post(
      '/echo',
      'application/x-www-form-urlencoded',
      'From=%2B15551234567&Body=hi+there',
    );
    expect(await form.json()).toEqual({
      body: { From: '+15551234567', Body: 'hi there' },
      raw: 'From=%2B15551234567&Body=hi+there',
    });
  });

  it('answers 413 over MAX_BODY_BYTES and accepts a body just under it', async () => {
    const under = JSON.stringify({ p: 'x'.repeat(4000) });
    expect((await post('/echo', 'application/json', under)).status).toBe(200);
    const over = JSON.stringify({ p: 'x'.repeat(4100) });
    const res = await post('/webhooks/connect', 'text/plain', over);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ statusCode: 413, error: 'entity.too.large' });
  });
});
