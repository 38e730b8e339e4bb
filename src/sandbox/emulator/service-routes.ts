import express, { type Request, type Response, Router } from 'express';
import { AwsError, ConnectErrors, ParticipantErrors } from './aws-error';
import type { ContactCenter } from './contact-center';
import type { FaultInjector } from './faults';

type Perform = (center: ContactCenter, bearer: string | undefined, body: unknown) => unknown;

interface Operation {
  method: 'put' | 'post';
  path: string;
  name: string;
  errors: typeof ConnectErrors | typeof ParticipantErrors;
  perform: Perform;
}

/** The wire surface of Amazon Connect and the Participant Service that the emulator plays. */
const OPERATIONS: Operation[] = [
  {
    method: 'put',
    path: '/contact/chat',
    name: 'StartChatContact',
    errors: ConnectErrors,
    perform: (center, _bearer, body) => center.startChatContact(body),
  },
  {
    method: 'post',
    path: '/contact/start-streaming',
    name: 'StartContactStreaming',
    errors: ConnectErrors,
    perform: (center, _bearer, body) => center.startContactStreaming(body),
  },
  {
    method: 'post',
    path: '/contact/stop-streaming',
    name: 'StopContactStreaming',
    errors: ConnectErrors,
    perform: (center, _bearer, body) => center.stopContactStreaming(body),
  },
  {
    method: 'post',
    path: '/participant/connection',
    name: 'CreateParticipantConnection',
    errors: ParticipantErrors,
    perform: (center, bearer, body) => center.createParticipantConnection(bearer, body),
  },
  {
    method: 'post',
    path: '/participant/message',
    name: 'SendMessage',
    errors: ParticipantErrors,
    perform: (center, bearer, body) => center.sendMessage(bearer, body),
  },
  {
    method: 'post',
    path: '/participant/event',
    name: 'SendEvent',
    errors: ParticipantErrors,
    perform: (center, bearer, body) => center.sendEvent(bearer, body),
  },
  {
    method: 'post',
    path: '/participant/disconnect',
    name: 'DisconnectParticipant',
    errors: ParticipantErrors,
    perform: (center, bearer, body) => center.disconnectParticipant(bearer, body),
  },
  {
    method: 'post',
    path: '/participant/start-attachment-upload',
    name: 'StartAttachmentUpload',
    errors: ParticipantErrors,
    perform: (center, bearer, body) => center.startAttachmentUpload(bearer, body),
  },
  {
    method: 'post',
    path: '/participant/complete-attachment-upload',
    name: 'CompleteAttachmentUpload',
    errors: ParticipantErrors,
    perform: (center, bearer, body) => center.completeAttachmentUpload(bearer, body),
  },
  {
    method: 'post',
    path: '/participant/attachment',
    name: 'GetAttachment',
    errors: ParticipantErrors,
    perform: (center, bearer, body) => center.getAttachment(bearer, body),
  },
  {
    method: 'post',
    path: '/participant/transcript',
    name: 'GetTranscript',
    errors: ParticipantErrors,
    perform: (center, bearer, body) => center.getTranscript(bearer, body),
  },
];

export interface RecordedRequest {
  at: string;
  operation: string;
  status: number;
  errorType?: string;
  body: unknown;
}

/** Connect and Participant Service operations, with fault injection and a request record. */
export function serviceRoutes(
  center: ContactCenter,
  faults: FaultInjector,
  record: (request: RecordedRequest) => void,
): Router {
  const router = Router();
  const json = express.json({ type: () => true, limit: '1mb' });
  for (const operation of OPERATIONS) {
    router[operation.method](operation.path, json, (req: Request, res: Response) => {
      const body: unknown = req.body;
      res.once('finish', () =>
        record({
          at: new Date().toISOString(),
          operation: operation.name,
          status: res.statusCode,
          errorType: res.get('x-amzn-errortype'),
          body,
        }),
      );
      void perform(operation, center, faults, req).then(
        (answer) => res.status(200).json(answer),
        (error: unknown) => answerError(error, res),
      );
    });
  }
  return router;
}

async function perform(
  operation: Operation,
  center: ContactCenter,
  faults: FaultInjector,
  req: Request,
): Promise<unknown> {
  const latency = faults.latencyMs(operation.name);
  if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
  const decision = faults.decide(operation.name);
  if (decision === 'throttle') throw operation.errors.throttling();
  if (decision === 'error-before') throw operation.errors.internal();
  const answer = operation.perform(center, req.get('x-amz-bearer'), req.body);
  if (decision === 'error-after') throw operation.errors.internal();
  return answer;
}

function answerError(error: unknown, res: Response): void {
  if (error instanceof AwsError) {
    error.send(res);
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  new AwsError('InternalServerException', 500, message).send(res);
}
