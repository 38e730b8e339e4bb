import express, { type NextFunction, type Request, type Response, Router } from 'express';
import { AwsError } from './aws-error';
import type { ContactCenter } from './contact-center';
import type { FaultInjector, FaultPlan } from './faults';
import type { Contact, ParticipantRole, Visibility } from './model';
import type { RecordedRequest } from './service-routes';
import type { SnsService } from './sns/sns-service';

export interface ControlDeps {
  center: ContactCenter;
  faults: FaultInjector;
  sns: SnsService;
  requests: () => RecordedRequest[];
  reset: () => void;
}

type Body = Record<string, unknown>;
const text = (body: Body, name: string) =>
  typeof body[name] === 'string' ? body[name] : undefined;

/**
 * The agent's side and the inspection API, under `/_emulator`: what a test or the sandbox does
 * in place of an agent in the Connect console, and what it looks at afterwards.
 */
export function controlRoutes(deps: ControlDeps): Router {
  const { center } = deps;
  const router = Router();
  router.use('/_emulator', express.json({ limit: '30mb' }));
  const on = (path: string, act: (id: string, body: Body) => unknown) =>
    router.post(`/_emulator/contacts/:id/${path}`, (req: Request, res: Response) => {
      res.json(act(String(req.params.id), (req.body ?? {}) as Body) ?? {});
    });

  router.get('/_emulator/contacts', (_req, res) => {
    res.json(center.list().map((contact) => describe(contact, false)));
  });
  router.get('/_emulator/contacts/:id', (req, res) => {
    res.json(describe(center.findContact(String(req.params.id)), true));
  });
  on('agent/join', (id, body) => {
    const agent = center.agentJoin(id, text(body, 'displayName'));
    return { participantId: agent.participantId };
  });
  on('agent/messages', (id, body) =>
    center.agentMessage(id, {
      content: text(body, 'content') ?? '',
      contentType: text(body, 'contentType'),
      visibility: text(body, 'visibility') as Visibility | undefined,
      role: text(body, 'role') as ParticipantRole | undefined,
    }),
  );
  on('agent/attachments', (id, body) =>
    center.agentAttachment(id, {
      name: text(body, 'name') ?? 'attachment',
      contentType: text(body, 'contentType') ?? 'application/octet-stream',
      content: Buffer.from(text(body, 'contentBase64') ?? '', 'base64'),
    }),
  );
  on('agent/typing', (id) => center.agentTyping(id));
  on('agent/leave', (id) => center.agentLeave(id));
  on('transfer', (id) => ({ contactId: center.transfer(id) }));
  on('system/messages', (id, body) =>
    center.systemMessage(id, text(body, 'content') ?? '', text(body, 'visibility') as Visibility),
  );
  on('end', (id) => center.endChat(id));
  on('expire-credentials', (id) => ({ expired: center.expireCredentials(id) }));

  router.get('/_emulator/requests', (req, res) => {
    const operation = typeof req.query.operation === 'string' ? req.query.operation : undefined;
    res.json(deps.requests().filter((r) => !operation || r.operation === operation));
  });
  router.get('/_emulator/faults', (_req, res) => {
    res.json(deps.faults.current());
  });
  router.put('/_emulator/faults', (req, res) => {
    deps.faults.configure(req.body as FaultPlan);
    res.json(deps.faults.current());
  });
  router.post('/_emulator/reset', (_req, res) => {
    deps.reset();
    res.json({});
  });
  router.get('/_emulator/sns/subscriptions', (_req, res) => {
    res.json(deps.sns.subscriptions());
  });
  router.get('/_emulator/sns/deliveries', (_req, res) => {
    res.json(deps.sns.deliveries());
  });

  router.put(
    '/_emulator/uploads/:id',
    express.raw({ type: () => true, limit: '30mb' }),
    (req: Request, res: Response) => {
      center.upload(String(req.params.id), req.get('content-type'), req.body as Buffer);
      res.status(200).end();
    },
  );
  router.get('/_emulator/downloads/:id', (req, res) => {
    const attachment = center.download(String(req.params.id));
    if (!attachment?.content) {
      res.status(404).json({ message: 'no such attachment' });
      return;
    }
    res.type(attachment.contentType).send(attachment.content);
  });

  router.use('/_emulator', (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const status = error instanceof AwsError ? error.status : 400;
    const name = error instanceof Error ? error.name : 'Error';
    res
      .status(status)
      .json({ error: name, message: error instanceof Error ? error.message : String(error) });
  });
  return router;
}

function describe(contact: Contact, withTranscript: boolean) {
  return {
    initialContactId: contact.initialContactId,
    contactId: contact.contactId,
    contactIds: contact.contactIds,
    state: contact.endedAt === undefined ? 'CONNECTED' : 'ENDED',
    attributes: contact.attributes,
    persistentChat: contact.persistentChat,
    streaming: [...contact.streaming].map(([streamingId, topicArn]) => ({ streamingId, topicArn })),
    participants: contact.participants.map((p) => ({
      participantId: p.participantId,
      role: p.role,
      displayName: p.displayName,
      connected: p.connected,
      left: p.left,
    })),
    ...(withTranscript ? { transcript: contact.transcript } : { items: contact.transcript.length }),
  };
}
