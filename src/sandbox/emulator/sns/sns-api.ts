import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { MessageAttribute } from './messages';
import {
  QueryParams,
  SNS_API_VERSION,
  SnsApiError,
  SnsErrors,
  actionResponseXml,
  errorResponseXml,
  type XmlNode,
} from './query-protocol';
import type { SnsService } from './sns-service';

/** Whether the request carried a SigV4 signature (not verified): SubscribeURL and UnsubscribeURL visits do not. */
interface Caller {
  authenticated: boolean;
}

type ActionHandler = (
  service: SnsService,
  params: QueryParams,
  caller: Caller,
) => XmlNode | undefined;

// Shapes: https://docs.aws.amazon.com/sns/latest/api/API_Operations.html
const ACTIONS = new Map<string, ActionHandler>([
  [
    'CreateTopic',
    (service, params) => ({
      TopicArn: service.createTopic(
        params.required('Name', 'name'),
        params.stringMap('Attributes'),
      ),
    }),
  ],
  [
    'GetTopicAttributes',
    (service, params) => {
      const attributes = service.topicAttributes(params.required('TopicArn', 'topicArn'));
      const entry = Object.entries(attributes).map(([key, value]) => ({ key, value }));
      return { Attributes: { entry } };
    },
  ],
  [
    'SetTopicAttributes',
    (service, params) => {
      service.setTopicAttribute(
        params.required('TopicArn', 'topicArn'),
        params.required('AttributeName', 'attributeName'),
        params.optional('AttributeValue') ?? '',
      );
      return undefined;
    },
  ],
  [
    'Subscribe',
    (service, params) => {
      if (params.mapEntries('Attributes').length > 0) {
        throw SnsErrors.invalidParameter(
          'Invalid parameter: Attributes Reason: the emulator supports no subscription attributes',
        );
      }
      const subscription = service.subscribe(
        params.required('TopicArn', 'topicArn'),
        params.required('Protocol', 'protocol'),
        params.optional('Endpoint'),
      );
      const returnArn = params.optional('ReturnSubscriptionArn') === 'true';
      const pending = subscription.status === 'pending' && !returnArn;
      return { SubscriptionArn: pending ? 'pending confirmation' : subscription.arn };
    },
  ],
  [
    'ConfirmSubscription',
    (service, params, caller) => {
      const authenticateOnUnsubscribe =
        caller.authenticated && params.optional('AuthenticateOnUnsubscribe') === 'true';
      const subscriptionArn = service.confirmSubscription(
        params.required('TopicArn', 'topicArn'),
        params.required('Token', 'token'),
        authenticateOnUnsubscribe,
      );
      return { SubscriptionArn: subscriptionArn };
    },
  ],
  [
    'Unsubscribe',
    (service, params, caller) => {
      service.unsubscribe(params.required('SubscriptionArn', 'subscriptionArn'), caller);
      return undefined;
    },
  ],
  [
    'ListSubscriptionsByTopic',
    (service, params) => {
      const member = service
        .subscriptionsOf(params.required('TopicArn', 'topicArn'))
        .map((subscription) => ({
          TopicArn: subscription.topicArn,
          Protocol: subscription.protocol,
          SubscriptionArn:
            subscription.status === 'pending' ? 'PendingConfirmation' : subscription.arn,
          Owner: service.accountId,
          Endpoint: subscription.endpoint,
        }));
      return { Subscriptions: { member } };
    },
  ],
  [
    'Publish',
    (service, params) => {
      if (params.optional('MessageStructure') !== undefined) {
        throw SnsErrors.invalidParameter(
          'Invalid parameter: MessageStructure Reason: not supported by the emulator',
        );
      }
      const topicArn = params.optional('TopicArn') ?? params.optional('TargetArn');
      if (topicArn === undefined) {
        throw SnsErrors.invalidParameter(
          'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter',
        );
      }
      const messageId = service.publish(
        topicArn,
        params.required('Message', 'message'),
        messageAttributes(params),
        params.optional('Subject'),
      );
      return { MessageId: messageId };
    },
  ],
]);

/** `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue|BinaryValue`. */
function messageAttributes(params: QueryParams): Record<string, MessageAttribute> {
  const attributes: Record<string, MessageAttribute> = {};
  for (const entry of params.mapEntries('MessageAttributes')) {
    const name = entry['Name'] ?? '';
    const dataType = entry['Value.DataType'];
    if (!dataType) {
      throw SnsErrors.invalidParameterValue(
        `The message attribute '${name}' must contain non-empty message attribute type.`,
      );
    }
    const field = dataType.startsWith('Binary') ? 'BinaryValue' : 'StringValue';
    const value = entry[`Value.${field}`];
    if (value === undefined) {
      throw SnsErrors.invalidParameterValue(
        `The message attribute '${name}' with type '${dataType}' must use field '${field.replace('Value', '')}'.`,
      );
    }
    attributes[name] = { Type: dataType, Value: value };
  }
  return attributes;
}

function answer(service: SnsService, params: QueryParams, req: Request, res: Response): void {
  const requestId = randomUUID();
  res.set('x-amzn-RequestId', requestId).type('text/xml');
  const caller = {
    authenticated:
      req.headers.authorization?.startsWith('AWS4-HMAC-SHA256') === true ||
      typeof req.query['X-Amz-Signature'] === 'string',
  };
  try {
    const action = params.optional('Action');
    if (!action) throw SnsErrors.missingAction();
    const version = params.optional('Version') ?? SNS_API_VERSION;
    const handler = version === SNS_API_VERSION ? ACTIONS.get(action) : undefined;
    if (!handler) throw SnsErrors.invalidAction(action, version);
    res.status(200).send(actionResponseXml(action, requestId, handler(service, params, caller)));
  } catch (error) {
    if (!(error instanceof SnsApiError)) throw error;
    res.status(error.status).send(errorResponseXml(error, requestId));
  }
}

/**
 * `POST /` form-encoded Query API calls (what @aws-sdk/client-sns sends), `GET /?Action=…`
 * (SubscribeURL, UnsubscribeURL) and `GET /SimpleNotificationService-<id>.pem`.
 */
export function snsRouter(service: SnsService): Router {
  const router = express.Router();
  router.get(service.certificatePath, (_req, res) => {
    res.type('application/x-pem-file').send(service.certificatePem);
  });
  router.post('/', express.urlencoded({ extended: false, limit: '2mb' }), (req, res, next) => {
    if (!req.is('application/x-www-form-urlencoded')) return next();
    answer(service, QueryParams.from(req.body), req, res);
  });
  router.get('/', (req, res, next) => {
    if (req.query.Action === undefined) return next();
    answer(service, QueryParams.from(req.query), req, res);
  });
  return router;
}
