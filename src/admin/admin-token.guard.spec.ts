import { type ExecutionContext, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { AppConfig } from '../config';
import { AdminTokenGuard } from './admin-token.guard';

const TOKEN = 'admin-token-0123456789';

function guard(apiToken?: string): AdminTokenGuard {
  return new AdminTokenGuard(
    AppConfig.fromEnv({
      AWS_REGION: 'us-east-1',
      CONNECT_INSTANCE_ID: 'instance-1',
      CONNECT_CONTACT_FLOW_ID: 'flow-1',
      CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:stream',
      ADMIN_API_TOKEN: apiToken,
    }),
  );
}

function request(authorization?: string) {
  const headers = new Map<string, string>();
  const context = {
    switchToHttp: () => ({
      getRequest: () => ({
        method: 'GET',
        originalUrl: '/admin/jobs',
        headers: authorization === undefined ? {} : { authorization },
      }),
      getResponse: () => ({ setHeader: (name: string, value: string) => headers.set(name, value) }),
    }),
  } as unknown as ExecutionContext;
  return { context, headers };
}

describe('AdminTokenGuard', () => {
  it('lets the configured bearer token in, whatever the case of the scheme', () => {
    for (const header of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `Bearer  ${TOKEN} `]) {
      expect(guard(TOKEN).canActivate(request(header).context)).toBe(true);
    }
  });

  it('answers 401 with a Bearer challenge without the token, with another one or another scheme', () => {
    for (const header of [
      undefined,
      '',
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Basic ${TOKEN}`,
      TOKEN,
      `Bearer ${TOKEN} extra`,
    ]) {
      const { context, headers } = request(header);
      expect(() => guard(TOKEN).canActivate(context)).toThrow(UnauthorizedException);
      expect(headers.get('WWW-Authenticate')).toBe('Bearer');
    }
  });

  it('answers as a route that does not exist when ADMIN_API_TOKEN is unset', () => {
    const { context, headers } = request(`Bearer ${TOKEN}`);
    expect(() => guard().canActivate(context)).toThrow(
      new NotFoundException('Cannot GET /admin/jobs'),
    );
    expect(headers.size).toBe(0);
  });
});
