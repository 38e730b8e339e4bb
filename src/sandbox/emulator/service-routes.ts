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

const connect = (
  method: Operation['method'],
  path: string,
  name: string,
  call: (center: ContactCenter, body: unknown) => unknown,
): Operation => ({
  method,
  path,
  name,
  errors: ConnectErrors,
  perform: (center, _bearer, body) => call(center, body),
});
const participant = (path: string, name: string, perform: Perform): Operation => ({
  method: 'post',
  path: `/participant/${path}`,
  name,
  errors: ParticipantErrors,
  perform,
});

/** The wire surface of Amazon Connect and the Participant Service that the emulator plays. */
const OPERATIONS: Operation[] = [
  connect('put', '/contact/chat', 'StartChatContact', (c, b) => c.startChatContact(b)),
  connect('post', '/contact/start-streaming', 'StartContactStreaming', (c, b) =>
    c.startContactStreaming(b),
  ),
  connect('post', '/contact/stop-streaming', 'StopContactStreaming', (c, b) =>
    c.stopContactStreaming(b),
  ),
  participant('connection', 'CreateParticipantConnection', (c, t, b) =>
    c.createParticipantConnection(t, b),
  ),
  participant('message', 'SendMessage', (c, t, b) => c.sendMessage(t, b)),
  participant('event', 'SendEvent', (c, t, b) => c.sendEvent(t, b)),
  participant('disconnect', 'DisconnectParticipant', (c, t, b) => c.disconnectParticipant(t, b)),
  participant('start-attachment-upload', 'StartAttachmentUpload', (c, t, b) =>
    c.startAttachmentUpload(t, b),
  ),
  participant('complete-attachment-upload', 'CompleteAttachmentUpload', (c, t, b) =>
    c.completeAttachmentUpload(t, b),
  ),
  participant('attachment', 'GetAttachment', (c, t, b) => c.getAttachment(t, b)),
  participant('transcript', 'GetTranscript', (c, t, b) => c.getTranscript(t, b)),
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
