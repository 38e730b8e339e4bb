import fc from 'fast-check';
import { createHmac, randomUUID } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import type { MessageSigner, SignedFields } from '../../../src/sandbox/emulator/sns/signer';
import {
  asciiString,
  BASE64,
  contentType,
  deepNesting,
  digits,
  e164,
  form,
  FORM_TYPE,
  hex,
  HEX,
  hugeArray,
  isWellFormed,
  json,
  JSON_TYPE,
  type Json,
  type JsonPath,
  messageText,
  objectPathsOf,
  offByOne,
  oversized,
  pathName,
  pathsOf,
  PROTO_KEYS,
  randomBytes,
  representativeWrongTypes,
  truncated,
  typed,
  unicodeString,
  valueAt,
  withPollution,
  withValueAt,
  wrongTypeFor,
} from './generators';
import { FUZZ_SECRETS, MAX_BODY_BYTES, TOPIC_ARN } from './harness';
import type { Answer, FuzzCase } from './http-client';

export interface CaseContext {
  publicBaseUrl: string;
  snsSigner: MessageSigner;
  otherSigner: MessageSigner;
  certificateUrl: string;
}

/** The cases of one endpoint family: a fixed matrix, and a generator sampled with the seed. */
export interface WebhookCases {
  webhook: string;
  systematic: FuzzCase[];
  random: fc.Arbitrary<FuzzCase>;
}

const hmacHex = (secret: string, body: Buffer | string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const jsonAnswer =
  (expected: Record<string, unknown>) =>
  (answer: Answer): string | undefined => {
    let body: unknown;
    try {
      body = JSON.parse(answer.body.toString('utf8'));
    } catch {
      return `the answer is not JSON: ${answer.body.toString('utf8').slice(0, 200)}`;
    }
    const wrong = Object.entries(expected).filter(
      ([key, value]) =>
        JSON.stringify((body as Record<string, unknown>)[key]) !== JSON.stringify(value),
    );
    return wrong.length === 0
      ? undefined
      : `the answer ${JSON.stringify(body).slice(0, 200)} differs from ${JSON.stringify(expected)}`;
  };

/** Signatures in a header that is not the one the endpoint reads. */
const MISPLACED_SIGNATURE_HEADERS = [
  'x-signature-256',
  'x-hub-signature-256',
  'x-hub-signature',
  'x-twilio-signature',
  'x-twilio-signature-256',
  'signature',
  'authorization',
];

// ---------------------------------------------------------------------------------------------
// Twilio: POST /webhooks/twilio and /webhooks/twilio/status (form-encoded, X-Twilio-Signature)
// ---------------------------------------------------------------------------------------------

type Params = Record<string, string>;

const twilioMessage: fc.Arbitrary<Params> = fc.record({
  MessageSid: hex(32).map((id) => `SM${id}`),
  AccountSid: fc.constant(FUZZ_SECRETS.twilioAccountSid),
  From: fc.oneof(
    e164,
    e164.map((number) => `whatsapp:${number}`),
  ),
  To: e164,
  Body: messageText,
  NumMedia: fc.constant('0'),
});

const DELIVERY_STATUSES = ['queued', 'sent', 'delivered', 'read', 'failed', 'undelivered'];

const twilioStatus: fc.Arbitrary<Params> = fc.record({
  MessageSid: hex(32).map((id) => `SM${id}`),
  AccountSid: fc.constant(FUZZ_SECRETS.twilioAccountSid),
  From: e164,
  To: e164,
  MessageStatus: fc.constantFrom(...DELIVERY_STATUSES),
});

/** The parameter names of a valid webhook of the endpoint. */
const twilioMessage0 = (endpoint: 'message' | 'status'): Params =>
  endpoint === 'message'
    ? { MessageSid: '', AccountSid: '', From: '', To: '', Body: '', NumMedia: '' }
    : { MessageSid: '', AccountSid: '', From: '', To: '', MessageStatus: '' };

export function twilioCases(context: CaseContext, endpoint: 'message' | 'status'): WebhookCases {
  const path = endpoint === 'message' ? '/webhooks/twilio' : '/webhooks/twilio/status';
  const otherPath = endpoint === 'message' ? '/webhooks/twilio/status' : '/webhooks/twilio';
  const webhook = endpoint === 'message' ? 'twilio' : 'twilio-status';
  const valid = endpoint === 'message' ? twilioMessage : twilioStatus;
  const required =
    endpoint === 'message'
      ? ['MessageSid', 'AccountSid', 'From', 'To']
      : ['MessageSid', 'AccountSid', 'From', 'To', 'MessageStatus'];
  const url = context.publicBaseUrl + path;
  const sign = (params: Params, token = FUZZ_SECRETS.twilioAuthToken, at = url) =>
    getExpectedTwilioSignature(token, at, params);
  const post = (
    generator: string,
    body: Buffer,
    headers: Record<string, string>,
    expect: FuzzCase['expect'],
    check?: FuzzCase['check'],
  ): FuzzCase => ({ webhook, generator, method: 'POST', path, headers, body, expect, check });
  const formHeaders = (signature?: string) => ({
    'content-type': FORM_TYPE,
    ...(signature === undefined ? {} : { 'x-twilio-signature': signature }),
  });

  const generators: fc.Arbitrary<FuzzCase>[] = [
    fc
      .tuple(randomBytes, contentType, fc.option(asciiString(40)))
      .map(([body, type, signature]) =>
        post(
          'random-bytes',
          body,
          { ...typed(type), ...(signature === null ? {} : { 'x-twilio-signature': signature }) },
          '4xx',
        ),
      ),
    fc
      .dictionary(unicodeString, unicodeString, { maxKeys: 12 })
      .map((params) =>
        post(
          'random-form',
          form(Object.entries(params)),
          formHeaders(sign(params).slice(1)),
          [401],
        ),
      ),
    valid.map((params) => post('unsigned', form(Object.entries(params)), formHeaders(), [401])),
    valid.chain((params) =>
      offByOne(sign(params), BASE64, 0, 2).map((signature) =>
        post('signature-off-by-one', form(Object.entries(params)), formHeaders(signature), [401]),
      ),
    ),
    fc
      .tuple(valid, valid)
      .filter(([a, b]) => a.MessageSid !== b.MessageSid)
      .map(([params, other]) =>
        post(
          'signature-of-another-body',
          form(Object.entries(params)),
          formHeaders(sign(other)),
          [401],
        ),
      ),
    fc
      .tuple(
        valid,
        asciiString(40).filter((token) => token !== FUZZ_SECRETS.twilioAuthToken),
      )
      .map(([params, token]) =>
        post(
          'signature-other-secret',
          form(Object.entries(params)),
          formHeaders(sign(params, token)),
          [401],
        ),
      ),
    fc
      .tuple(
        valid,
        fc.constantFrom(
          context.publicBaseUrl + otherPath,
          `${url}?fuzz=1`,
          url.replace('http://', 'https://'),
          `${url}/`,
          'https://example.com/webhooks/twilio',
        ),
      )
      .map(([params, at]) =>
        post(
          'signature-other-url',
          form(Object.entries(params)),
          formHeaders(sign(params, FUZZ_SECRETS.twilioAuthToken, at)),
          [401],
        ),
      ),
    fc
      .tuple(
        valid,
        fc.constantFrom(...MISPLACED_SIGNATURE_HEADERS.filter((h) => h !== 'x-twilio-signature')),
      )
      .map(([params, header]) =>
        post(
          'signature-wrong-header',
          form(Object.entries(params)),
          { 'content-type': FORM_TYPE, [header]: sign(params) },
          [401],
        ),
      ),
    fc
      .tuple(valid, fc.constantFrom('', ' ', '=', 'null', 'sha256=', 'A'.repeat(7000)))
      .map(([params, signature]) =>
        post('signature-garbage', form(Object.entries(params)), formHeaders(signature), [401]),
      ),
    valid.chain((params) => {
      const body = form(Object.entries(params));
      return truncated(body).map((prefix) =>
        post('truncated', prefix, formHeaders(sign(params)), [401]),
      );
    }),
    fc.tuple(oversized(MAX_BODY_BYTES), fc.boolean()).map(([{ kind, body }, signed]) =>
      post(
        `oversized-${kind}`,
        body,
        {
          'content-type': kind === 'json' ? JSON_TYPE : FORM_TYPE,
          ...(signed ? { 'x-twilio-signature': sign({}) } : {}),
        },
        [413],
      ),
    ),
    fc
      .tuple(
        valid,
        // The form parser also reads `charset=iso-8859-1`: every form type is left out.
        contentType.filter((type) => !type?.toLowerCase().startsWith(FORM_TYPE)),
      )
      .map(([params, type]) =>
        post(
          'wrong-content-type-signed',
          form(Object.entries(params)),
          {
            ...typed(type),
            'x-twilio-signature': sign(params),
          },
          '4xx',
        ),
      ),
    valid.map((params) =>
      post(
        'json-body-signed-as-form',
        json(params),
        {
          'content-type': JSON_TYPE,
          'x-twilio-signature': sign(params),
        },
        '4xx',
      ),
    ),
    fc.tuple(valid, fc.constantFrom(...required), fc.boolean()).map(([params, name, blank]) => {
      const changed = { ...params };
      if (blank) changed[name] = '';
      else delete changed[name];
      return post(
        `signed-${blank ? 'blank' : 'missing'}-required`,
        form(Object.entries(changed)),
        formHeaders(sign(changed)),
        [400],
      );
    }),
    fc
      .tuple(
        valid,
        fc.oneof(
          hex(32).map((id) => `AC${id}`),
          unicodeString.filter(isWellFormed),
        ),
      )
      .filter(([, sid]) => sid !== FUZZ_SECRETS.twilioAccountSid)
      .map(([params, sid]) => {
        const changed = { ...params, AccountSid: sid };
        // An empty AccountSid is absent, which is refused the same way.
        return post(
          'signed-other-account',
          form(Object.entries(changed)),
          formHeaders(sign(changed)),
          [400],
        );
      }),
    fc
      .tuple(
        valid,
        fc.subarray(PROTO_KEYS, { minLength: 1 }),
        asciiString(20),
        fc.constantFrom(...required),
      )
      .map(([params, keys, value, dropped]) => {
        const polluted: Params = { ...params };
        for (const key of keys) Object.defineProperty(polluted, key, { value, enumerable: true });
        delete polluted[dropped];
        const pairs = Object.entries(polluted);
        return [
          post('proto-keys-unsigned', form(pairs), formHeaders(sign(params)), [401]),
          post(
            'proto-keys-signed-missing-required',
            form(pairs),
            formHeaders(sign(polluted)),
            [400],
          ),
        ];
      })
      .chain((pair) => fc.constantFrom(...pair)),
    fc
      .tuple(
        valid,
        fc.constantFrom('Body', 'From', 'To', 'ProfileName', 'MessageSid'),
        unicodeString,
      )
      .map(([params, name, value]) =>
        post(
          'unicode-unsigned',
          form(Object.entries({ ...params, [name]: value })),
          formHeaders(sign(params)),
          [401],
        ),
      ),
    fc
      .tuple(
        valid,
        fc.constantFrom(...required),
        unicodeString,
        fc.constantFrom('Body', 'ProfileName'),
      )
      .map(([params, dropped, value, name]) => {
        const changed: Params = { ...params, [name]: value };
        delete changed[dropped];
        // A lone surrogate reaches the bridge as U+FFFD: the signature then fails first (401).
        return post(
          'unicode-signed-missing-required',
          form(Object.entries(changed)),
          formHeaders(sign(changed)),
          [400, 401],
        );
      }),
    fc
      .integer({ min: 1_001, max: 4_000 })
      .map((count) =>
        post(
          'many-parameters',
          form(Array.from({ length: count }, (_, index): [string, string] => [`p${index}`, '1'])),
          formHeaders('x'),
          '4xx',
        ),
      ),
    fc
      .tuple(
        valid,
        fc.constantFrom(...Object.keys(twilioMessage0(endpoint))),
        fc.integer({ min: 1, max: 50 }),
        asciiString(20),
      )
      .map(([params, repeated, times, other]) => {
        // Twilio's algorithm signs the set of a name's values: repeating the same value is the
        // signed request again (200), so the repeats carry another value.
        const value = other === params[repeated] ? `${other}x` : other;
        const pairs: [string, string][] = [
          ...Object.entries(params),
          ...Array.from({ length: times }, (): [string, string] => [repeated, value]),
        ];
        return post('repeated-parameters-unsigned', form(pairs), formHeaders(sign(params)), [401]);
      }),
    fc.tuple(deepNesting, fc.constantFrom(JSON_TYPE, FORM_TYPE)).map(([{ depth, text }, type]) =>
      post(
        `deep-nesting-${depth > 1000 ? 'deep' : 'shallow'}`,
        Buffer.from(text),
        {
          'content-type': type,
          'x-twilio-signature': sign({}),
        },
        '4xx',
      ),
    ),
    hugeArray.map(({ text }) =>
      post('huge-array', Buffer.from(text), { 'content-type': JSON_TYPE }, '4xx'),
    ),
  ];
  if (endpoint === 'status') {
    // Correctly signed and well formed, for a conversation the bridge does not know: 200
    // (TwiML), and nothing is stored.
    generators.push(
      valid.map((params) =>
        post(
          'signed-unknown-conversation',
          form(Object.entries(params)),
          formHeaders(sign(params)),
          [200],
          (answer) =>
            answer.body.toString('utf8').includes('<Response/>') ? undefined : 'no empty TwiML',
        ),
      ),
    );
  }
  return { webhook, systematic: [], random: fc.oneof(...generators) };
}

// ---------------------------------------------------------------------------------------------
// WhatsApp Cloud API: POST /webhooks/whatsapp (JSON, X-Hub-Signature-256)
// ---------------------------------------------------------------------------------------------

const whatsappPayload: fc.Arbitrary<Json> = fc
  .record({
    waId: digits(11),
    phoneNumberId: digits(15),
    wamid: hex(24).map((id) => `wamid.${id}`),
    text: messageText,
    name: messageText,
  })
  .map(({ waId, phoneNumberId, wamid, text, name }) => ({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
              contacts: [{ profile: { name }, wa_id: waId }],
              messages: [
                {
                  from: waId,
                  id: wamid,
                  timestamp: '1700000000',
                  type: 'text',
                  text: { body: text },
                },
              ],
            },
          },
        ],
      },
    ],
  }));

/** The envelope members the bridge refuses a batch for; anything deeper is read per message. */
function isEnvelopePath(path: JsonPath): boolean {
  const name = path.map((key) => (typeof key === 'number' ? '#' : key)).join('.');
  return [
    'object',
    'entry',
    'entry.#',
    'entry.#.changes',
    'entry.#.changes.#',
    'entry.#.changes.#.field',
  ].includes(name);
}

/**
 * Content types the JSON parser cannot read (any `application/json…` may be read, in any case
 * and some charsets): a correctly signed message sent with one of them is refused, never stored.
 */
const notJson = (type: string | undefined) => !type?.toLowerCase().startsWith('application/json');

const NOTHING_STORED = { accepted: 0, duplicates: 0, statuses: 0 };

export function whatsappCases(): WebhookCases {
  const webhook = 'whatsapp';
  const path = '/webhooks/whatsapp';
  const secret = FUZZ_SECRETS.whatsappAppSecret;
  const post = (
    generator: string,
    body: Buffer,
    headers: Record<string, string>,
    expect: FuzzCase['expect'],
    check?: FuzzCase['check'],
  ): FuzzCase => ({ webhook, generator, method: 'POST', path, headers, body, expect, check });
  const signedHeaders = (body: Buffer | string, signature = hmacHex(secret, body)) => ({
    'content-type': JSON_TYPE,
    'x-hub-signature-256': signature,
  });

  // Every member of one payload, mutated to each other JSON type in turn.
  const template = fc.sample(whatsappPayload, { seed: 1, numRuns: 1 })[0];
  const templateBody = json(template);
  const systematic: FuzzCase[] = pathsOf(template).flatMap((at) =>
    representativeWrongTypes(valueAt(template, at)).flatMap((wrong) => {
      const body = json(withValueAt(template, at, wrong));
      const name = `wrong-type:${pathName(at)}`;
      return [
        post(`${name} (unsigned)`, body, signedHeaders(templateBody), [401]),
        ...(isEnvelopePath(at) ? [post(`${name} (signed)`, body, signedHeaders(body), [400])] : []),
      ];
    }),
  );

  const envelopePaths = pathsOf(template).filter(isEnvelopePath);
  const generators: fc.Arbitrary<FuzzCase>[] = [
    fc
      .tuple(randomBytes, contentType, fc.boolean())
      .map(([body, type, signed]) =>
        post(
          'random-bytes',
          body,
          { ...typed(type), ...(signed ? { 'x-hub-signature-256': hmacHex(secret, 'x') } : {}) },
          '4xx',
        ),
      ),
    fc
      .jsonValue()
      .map((value) =>
        post('random-json-unsigned', json(value), { 'content-type': JSON_TYPE }, '4xx'),
      ),
    whatsappPayload.map((payload) =>
      post('unsigned', json(payload), { 'content-type': JSON_TYPE }, [401]),
    ),
    whatsappPayload.chain((payload) => {
      const body = json(payload);
      return offByOne(hmacHex(secret, body), HEX, 7).map((signature) =>
        post('signature-off-by-one', body, signedHeaders(body, signature), [401]),
      );
    }),
    fc
      .tuple(whatsappPayload, whatsappPayload)
      .map(([payload, other]) =>
        post('signature-of-another-body', json(payload), signedHeaders(json(other)), [401]),
      ),
    fc
      .tuple(
        whatsappPayload,
        asciiString(40).filter((other) => other !== secret),
      )
      .map(([payload, other]) => {
        const body = json(payload);
        return post(
          'signature-other-secret',
          body,
          signedHeaders(body, hmacHex(other, body)),
          [401],
        );
      }),
    fc
      .tuple(
        whatsappPayload,
        fc.constantFrom(...MISPLACED_SIGNATURE_HEADERS.filter((h) => h !== 'x-hub-signature-256')),
      )
      .map(([payload, header]) => {
        const body = json(payload);
        return post(
          'signature-wrong-header',
          body,
          { 'content-type': JSON_TYPE, [header]: hmacHex(secret, body) },
          [401],
        );
      }),
    fc
      .tuple(
        whatsappPayload,
        fc.constantFrom<(body: Buffer) => string>(
          (body) => hmacHex(secret, body).slice('sha256='.length),
          (body) => `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`,
          (body) => `sha256=sha256=${hmacHex(secret, body).slice(7)}`,
          (body) => `${hmacHex(secret, body)},${hmacHex(secret, body)}`,
          (body) => `sha256=${createHmac('sha256', secret).update(body).digest('base64')}`,
          () => '',
          () => 'sha256=',
        ),
      )
      .map(([payload, signer]) => {
        const body = json(payload);
        return post('signature-malformed', body, signedHeaders(body, signer(body)), [401]);
      }),
    whatsappPayload.chain((payload) => {
      const body = json(payload);
      return fc.tuple(truncated(body), fc.boolean()).map(([prefix, resign]) =>
        // The body parser refuses the broken JSON before the signature is read.
        post(
          `truncated-${resign ? 'signed' : 'unsigned'}`,
          prefix,
          signedHeaders(resign ? prefix : body),
          [400],
        ),
      );
    }),
    fc.tuple(oversized(MAX_BODY_BYTES), fc.boolean()).map(([{ kind, body }, signed]) =>
      post(
        `oversized-${kind}`,
        body,
        {
          'content-type': kind === 'form' ? FORM_TYPE : JSON_TYPE,
          ...(signed ? { 'x-hub-signature-256': hmacHex(secret, body) } : {}),
        },
        [413],
      ),
    ),
    fc.tuple(whatsappPayload, contentType.filter(notJson)).map(([payload, type]) => {
      const body = json(payload);
      return post(
        'wrong-content-type-signed',
        body,
        { ...typed(type), 'x-hub-signature-256': hmacHex(secret, body) },
        '4xx',
      );
    }),
    fc.tuple(whatsappPayload, fc.constantFrom(...pathsOf(template))).chain(([payload, at]) =>
      wrongTypeFor(valueAt(template, at)).map((wrong) => {
        const body = json(withValueAt(payload, at, wrong));
        return isEnvelopePath(at)
          ? post(`wrong-type-signed:${pathName(at)}`, body, signedHeaders(body), [400])
          : post(`wrong-type-unsigned:${pathName(at)}`, body, signedHeaders(json(payload)), [401]);
      }),
    ),
    fc.tuple(whatsappPayload, fc.constantFrom(...envelopePaths)).map(([payload, at]) => {
      const body = json(withValueAt(payload, at, undefined));
      // Without one of the envelope's members (an entry or change removed is still valid).
      const still = at.length > 0 && typeof at[at.length - 1] === 'number';
      return post(
        `missing-signed:${pathName(at)}`,
        body,
        signedHeaders(body),
        still ? [200] : [400],
        still ? jsonAnswer(NOTHING_STORED) : undefined,
      );
    }),
    fc.tuple(deepNesting, fc.boolean()).map(([{ depth, text }, signed]) => {
      const body = Buffer.from(`{"object":"whatsapp_business_account","entry":${text}}`);
      const size = depth > 1000 ? 'deep' : 'shallow';
      return signed
        ? post(`deep-nesting-${size}-signed`, body, signedHeaders(body), [400])
        : post(`deep-nesting-${size}-unsigned`, body, { 'content-type': JSON_TYPE }, [400, 401]);
    }),
    fc
      .tuple(
        fc.integer({ min: 500, max: 3_000 }),
        fc.constantFrom('empty-changes', 'other-field', 'bad-metadata'),
      )
      .map(([length, kind]) => {
        const entry =
          kind === 'empty-changes'
            ? { changes: [] }
            : kind === 'other-field'
              ? { changes: [{ field: 'account_update', value: {} }] }
              : { changes: [{ field: 'messages', value: { metadata: 7 } }] };
        const fits = Math.floor((MAX_BODY_BYTES - 100) / (json(entry).length + 1));
        const body = json({
          object: 'whatsapp_business_account',
          entry: new Array(Math.min(length, fits)).fill(entry),
        });
        // Signed and well formed, but nothing in it to store: 200 with nothing accepted.
        return post(
          `huge-array-signed-${kind}`,
          body,
          signedHeaders(body),
          [200],
          jsonAnswer(NOTHING_STORED),
        );
      }),
    hugeArray.map(({ text }) =>
      post('huge-array-unsigned', Buffer.from(text), { 'content-type': JSON_TYPE }, '4xx'),
    ),
    fc
      .tuple(whatsappPayload, fc.constantFrom('__proto__', 'constructor'), fc.nat())
      .map(([payload, key, pick]) => {
        const paths = objectPathsOf(payload);
        const text = withPollution(payload, paths[pick % paths.length], key);
        return post('proto-keys-unsigned', Buffer.from(text), signedHeaders(json(payload)), [401]);
      }),
    fc
      .tuple(
        fc.constantFrom('__proto__', 'constructor'),
        fc.constantFrom('page', 'instagram', 'user'),
      )
      .map(([key, object]) => {
        const text = withPollution({ object, entry: [] }, [], key);
        return post(
          'proto-keys-signed-other-object',
          Buffer.from(text),
          signedHeaders(text),
          [400],
        );
      }),
    fc
      .tuple(
        fc.constantFrom('__proto__', 'constructor'),
        fc.constantFrom<JsonPath>([], ['entry', 0]),
      )
      .map(([key, at]) => {
        const text = withPollution(
          { object: 'whatsapp_business_account', entry: [{ changes: [] }] },
          at,
          key,
        );
        return post(
          'proto-keys-signed-empty-batch',
          Buffer.from(text),
          signedHeaders(text),
          [200],
          jsonAnswer(NOTHING_STORED),
        );
      }),
    fc
      .tuple(
        whatsappPayload,
        unicodeString,
        fc.constantFrom<JsonPath>(
          ['entry', 0, 'changes', 0, 'value', 'messages', 0, 'text', 'body'],
          ['entry', 0, 'changes', 0, 'value', 'contacts', 0, 'profile', 'name'],
          ['entry', 0, 'changes', 0, 'value', 'messages', 0, 'id'],
          ['entry', 0, 'changes', 0, 'value', 'messages', 0, 'type'],
        ),
      )
      .map(([payload, text, at]) =>
        post(
          'unicode-unsigned',
          json(withValueAt(payload, at, text)),
          signedHeaders(json(payload)),
          [401],
        ),
      ),
    fc
      .tuple(
        digits(11),
        digits(15),
        fc.constantFrom(...DELIVERY_STATUSES),
        fc.array(fc.record({ code: fc.integer(), title: asciiString(30) }), { maxLength: 3 }),
      )
      .map(([waId, phoneNumberId, status, errors]) => {
        const body = json({
          object: 'whatsapp_business_account',
          entry: [
            {
              changes: [
                {
                  field: 'messages',
                  value: {
                    metadata: { phone_number_id: phoneNumberId },
                    statuses: [{ id: `wamid.${waId}`, status, recipient_id: waId, errors }],
                  },
                },
              ],
            },
          ],
        });
        // A status of a message the bridge did not send: 200, recorded nowhere.
        return post(
          'signed-status-unknown-conversation',
          body,
          signedHeaders(body),
          [200],
          jsonAnswer(NOTHING_STORED),
        );
      }),
  ];
  return { webhook, systematic, random: fc.oneof(...generators) };
}

// ---------------------------------------------------------------------------------------------
// WhatsApp verification: GET /webhooks/whatsapp?hub.mode=…&hub.verify_token=…&hub.challenge=…
// ---------------------------------------------------------------------------------------------

/** Strings encodeURIComponent takes (no lone surrogates). */
const wellFormed = unicodeString.filter(isWellFormed);

export function whatsappVerifyCases(): WebhookCases {
  const webhook = 'whatsapp-verify';
  const token = FUZZ_SECRETS.whatsappVerifyToken;
  const get = (
    generator: string,
    query: string,
    expect: FuzzCase['expect'],
    check?: FuzzCase['check'],
    path = '/webhooks/whatsapp',
  ): FuzzCase => ({
    webhook,
    generator,
    method: 'GET',
    path: `${path}?${query}`,
    headers: {},
    expect,
    check,
  });
  const q = (pairs: [string, string][]) =>
    pairs
      .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
      .join('&');
  const wrongToken = fc
    .oneof(
      offByOne(token, 'abcdefghijklmnopqrstuvwxyz-0123456789'),
      wellFormed,
      fc.constant(''),
      fc.constant(token.toUpperCase()),
      fc.constant(` ${token}`),
      fc.constant(`${token} `),
      fc.constant(token.slice(0, -1)),
      fc.constant(`${token}x`),
    )
    .filter((candidate) => candidate !== token);
  const generators: fc.Arbitrary<FuzzCase>[] = [
    fc.tuple(wrongToken, wellFormed).map(([given, challenge]) =>
      get(
        'wrong-token',
        q([
          ['hub.mode', 'subscribe'],
          ['hub.verify_token', given],
          ['hub.challenge', challenge],
        ]),
        [403],
      ),
    ),
    fc
      .tuple(
        wellFormed.filter((mode) => mode !== 'subscribe'),
        wellFormed,
      )
      .map(([mode, challenge]) =>
        get(
          'wrong-mode',
          q([
            ['hub.mode', mode],
            ['hub.verify_token', token],
            ['hub.challenge', challenge],
          ]),
          [403],
        ),
      ),
    fc.subarray(['hub.mode', 'hub.verify_token', 'hub.challenge'], { maxLength: 2 }).map((kept) => {
      const values: Record<string, string> = {
        'hub.mode': 'subscribe',
        'hub.verify_token': token,
        'hub.challenge': '42',
      };
      return get(
        'missing-parameters',
        q(kept.map((name): [string, string] => [name, values[name]])),
        [403],
      );
    }),
    fc.constantFrom('hub.mode', 'hub.verify_token', 'hub.challenge').map((repeated) => {
      const pairs: [string, string][] = [
        ['hub.mode', 'subscribe'],
        ['hub.verify_token', token],
        ['hub.challenge', '42'],
      ];
      const value = pairs.find(([name]) => name === repeated)![1];
      return get('repeated-parameter', q([...pairs, [repeated, value]]), [403]);
    }),
    fc
      .constantFrom(
        `hub.mode=subscribe&hub.verify_token[]=${token}&hub.challenge=1`,
        `hub.mode=subscribe&hub[verify_token]=${token}&hub.challenge=1`,
        `hub_mode=subscribe&hub_verify_token=${token}&hub_challenge=1`,
        `HUB.MODE=subscribe&HUB.VERIFY_TOKEN=${token}&HUB.CHALLENGE=1`,
        `hub.mode=subscribe&hub.verify_token=${token}%00&hub.challenge=1`,
        `hub.mode=subscribe&hub.verify_token=%${token}&hub.challenge=1`,
        `__proto__[hub.verify_token]=${token}&hub.mode=subscribe&hub.challenge=1`,
        `constructor[prototype][hub.verify_token]=${token}&hub.mode=subscribe&hub.challenge=1`,
      )
      .map((query) => get('tricky-query', query, [403])),
    fc
      .string({ unit: fc.constantFrom(...'abc.=&%[]_+019AZ'), maxLength: 120 })
      .map((query) => get('random-query', query, [403])),
    fc
      .tuple(
        wellFormed,
        fc.constantFrom(
          '/webhooks/whatsapp/x',
          '/webhooks/whatsapp/..%2f',
          '/webhooks/whatsapp%2f',
        ),
      )
      .map(([challenge, path]) =>
        get(
          'wrong-path',
          q([
            ['hub.mode', 'subscribe'],
            ['hub.verify_token', token],
            ['hub.challenge', challenge],
          ]),
          '4xx',
          undefined,
          path,
        ),
      ),
    // The genuine handshake with any challenge: 200 and the challenge echoed unchanged.
    wellFormed.map((challenge) =>
      get(
        'valid-handshake',
        q([
          ['hub.mode', 'subscribe'],
          ['hub.verify_token', token],
          ['hub.challenge', challenge],
        ]),
        [200],
        (answer) =>
          answer.body.toString('utf8') === challenge
            ? undefined
            : `echoed ${JSON.stringify(answer.body.toString('utf8').slice(0, 80))}`,
      ),
    ),
  ];
  return { webhook, systematic: [], random: fc.oneof(...generators) };
}

// ---------------------------------------------------------------------------------------------
// Generic channel: POST /webhooks/generic/:channel (JSON, X-Signature-256)
// ---------------------------------------------------------------------------------------------

const genericMessage: fc.Arbitrary<Json> = fc
  .record(
    {
      messageId: hex(16).map((id) => `m-${id}`),
      from: e164,
      to: e164,
      text: messageText,
      displayName: messageText,
      attachments: fc.constant([
        { url: 'https://files.example.com/photo.png', contentType: 'image/png', name: 'photo.png' },
      ]),
    },
    { requiredKeys: ['messageId', 'from', 'to', 'text'] },
  )
  // Optional members are absent, never undefined: the record is plain JSON.
  .map((message) => message as unknown as Json);

/** Channel names the route reaches but the channel rule refuses, once Express has decoded them. */
const badChannelName = fc
  .oneof(
    fc.constantFrom(
      'Not_Valid',
      'UPPER',
      '-lead',
      'a'.repeat(33),
      'dot.ted',
      'sp ace',
      '%2F',
      '%00',
      '%E2%80%AE',
      '..',
      'x%2Fy',
      'ü',
      '%F0%9F%98%80',
    ),
    asciiString(40),
  )
  .map((name) => (/^%/.test(name) || name.includes('%2F') ? name : encodeURIComponent(name)))
  .filter((encoded) => {
    if (encoded === '' || encoded === '.' || encoded === '..') return false;
    let decoded: string;
    try {
      decoded = decodeURIComponent(encoded);
    } catch {
      return true;
    }
    return !/^[a-z0-9][a-z0-9-]{0,31}$/.test(decoded);
  });

export function genericCases(): WebhookCases {
  const webhook = 'generic';
  const secret = FUZZ_SECRETS.genericWebhookSecret;
  const post = (
    generator: string,
    body: Buffer,
    headers: Record<string, string>,
    expect: FuzzCase['expect'],
    channel = 'app',
  ): FuzzCase => ({
    webhook,
    generator,
    method: 'POST',
    path: `/webhooks/generic/${channel}`,
    headers,
    body,
    expect,
  });
  const signedHeaders = (body: Buffer | string, signature = hmacHex(secret, body)) => ({
    'content-type': JSON_TYPE,
    'x-signature-256': signature,
  });

  const template = fc.sample(
    genericMessage.filter(
      (message) => 'attachments' in (message as object) && 'displayName' in (message as object),
    ),
    { seed: 2, numRuns: 1 },
  )[0];
  const templateBody = json(template);
  // Each member of a message replaced by each other JSON type (and removed): 400 when signed.
  const systematic: FuzzCase[] = pathsOf(template).flatMap((at) => {
    const variants: (Json | undefined)[] = [...representativeWrongTypes(valueAt(template, at))];
    if (['messageId', 'from', 'to'].includes(String(at[0])) && at.length === 1)
      variants.push(undefined);
    return variants.flatMap((wrong) => {
      const body = json(withValueAt(template, at, wrong));
      const name = `${wrong === undefined ? 'missing' : 'wrong-type'}:${pathName(at)}`;
      // An empty attachments list is valid (the text carries the message): not a wrong type.
      if (pathName(at) === 'attachments' && Array.isArray(wrong) && wrong.length === 0) return [];
      // Replacing one attachment by an empty list or object is invalid; `attachments.0` = [] is.
      return [
        post(`${name} (unsigned)`, body, signedHeaders(templateBody), [401]),
        post(`${name} (signed)`, body, signedHeaders(body), [400]),
      ];
    });
  });

  const generators: fc.Arbitrary<FuzzCase>[] = [
    fc
      .tuple(randomBytes, contentType, fc.boolean())
      .map(([body, type, signed]) =>
        post(
          'random-bytes',
          body,
          { ...typed(type), ...(signed ? { 'x-signature-256': hmacHex(secret, 'x') } : {}) },
          '4xx',
        ),
      ),
    fc
      .jsonValue()
      .map((value) =>
        post('random-json-unsigned', json(value), { 'content-type': JSON_TYPE }, '4xx'),
      ),
    fc
      .jsonValue()
      .filter((value) => value !== null && typeof value === 'object')
      .map((value) => {
        const body = json(value);
        // Signed, but not a message: objects lack messageId (fc.jsonValue keys are random).
        return post('random-json-signed', body, signedHeaders(body), [400]);
      })
      .filter((fuzzCase) => {
        const value = JSON.parse(fuzzCase.body!.toString()) as Record<string, unknown>;
        return Array.isArray(value) || typeof value.messageId !== 'string';
      }),
    genericMessage.map((message) =>
      post('unsigned', json(message), { 'content-type': JSON_TYPE }, [401]),
    ),
    genericMessage.chain((message) => {
      const body = json(message);
      return offByOne(hmacHex(secret, body), HEX, 7).map((signature) =>
        post('signature-off-by-one', body, signedHeaders(body, signature), [401]),
      );
    }),
    fc
      .tuple(genericMessage, genericMessage)
      .map(([message, other]) =>
        post('signature-of-another-body', json(message), signedHeaders(json(other)), [401]),
      ),
    fc
      .tuple(
        genericMessage,
        asciiString(40).filter((other) => other !== secret),
      )
      .map(([message, other]) => {
        const body = json(message);
        return post(
          'signature-other-secret',
          body,
          signedHeaders(body, hmacHex(other, body)),
          [401],
        );
      }),
    fc
      .tuple(
        genericMessage,
        fc.constantFrom(...MISPLACED_SIGNATURE_HEADERS.filter((h) => h !== 'x-signature-256')),
      )
      .map(([message, header]) => {
        const body = json(message);
        return post(
          'signature-wrong-header',
          body,
          { 'content-type': JSON_TYPE, [header]: hmacHex(secret, body) },
          [401],
        );
      }),
    fc
      .tuple(
        genericMessage,
        fc.constantFrom('', 'sha256=', 'sha1=0', 'null', '0'.repeat(64), 'x'.repeat(7000)),
      )
      .map(([message, signature]) =>
        post('signature-garbage', json(message), signedHeaders(json(message), signature), [401]),
      ),
    genericMessage.chain((message) => {
      const body = json(message);
      return fc
        .tuple(truncated(body), fc.boolean())
        .map(([prefix, resign]) =>
          post(
            `truncated-${resign ? 'signed' : 'unsigned'}`,
            prefix,
            signedHeaders(resign ? prefix : body),
            [400],
          ),
        );
    }),
    fc.tuple(oversized(MAX_BODY_BYTES), fc.boolean()).map(([{ kind, body }, signed]) =>
      post(
        `oversized-${kind}`,
        body,
        {
          'content-type': kind === 'form' ? FORM_TYPE : JSON_TYPE,
          ...(signed ? { 'x-signature-256': hmacHex(secret, body) } : {}),
        },
        [413],
      ),
    ),
    fc.tuple(genericMessage, contentType.filter(notJson)).map(([message, type]) => {
      const body = json(message);
      return post(
        'wrong-content-type-signed',
        body,
        { ...typed(type), 'x-signature-256': hmacHex(secret, body) },
        '4xx',
      );
    }),
    fc.tuple(genericMessage, fc.constantFrom(...pathsOf(template))).chain(([message, at]) =>
      wrongTypeFor(valueAt(template, at)).map((wrong) => {
        const changed = withValueAt({ ...(template as object), ...(message as object) }, at, wrong);
        const body = json(changed);
        const emptyAttachments =
          pathName(at) === 'attachments' && Array.isArray(wrong) && wrong.length === 0;
        return emptyAttachments
          ? post(`wrong-type-unsigned:${pathName(at)}`, body, signedHeaders(json(message)), [401])
          : post(`wrong-type-signed:${pathName(at)}`, body, signedHeaders(body), [400]);
      }),
    ),
    fc.tuple(genericMessage, badChannelName, fc.boolean()).map(([message, channel, signed]) => {
      const body = json(message);
      return signed
        ? post('bad-channel-name-signed', body, signedHeaders(body), [400, 404], channel)
        : post(
            'bad-channel-name-unsigned',
            body,
            { 'content-type': JSON_TYPE },
            [400, 401, 404],
            channel,
          );
    }),
    fc
      .tuple(deepNesting, fc.constantFrom('text', 'attachments', 'displayName'), fc.boolean())
      .map(([{ depth, text }, field, signed]) => {
        const body = Buffer.from(
          `{"messageId":"m-deep","from":"+15550001111","to":"+15559990000","${field}":${text}}`,
        );
        const size = depth > 1000 ? 'deep' : 'shallow';
        return signed
          ? post(`deep-nesting-${size}-signed`, body, signedHeaders(body), [400])
          : post(`deep-nesting-${size}-unsigned`, body, { 'content-type': JSON_TYPE }, [401]);
      }),
    fc.tuple(fc.integer({ min: 11, max: 5_000 }), fc.boolean()).map(([length, signed]) => {
      const attachment = { url: 'https://x.example/a.png', contentType: 'image/png' };
      const fits = Math.floor((MAX_BODY_BYTES - 200) / (json(attachment).length + 1));
      const attachments = new Array(Math.min(length, fits)).fill(attachment);
      const body = json({
        messageId: 'm-huge',
        from: '+15550001111',
        to: '+15559990000',
        text: 'hi',
        attachments,
      });
      return signed
        ? post('huge-attachments-signed', body, signedHeaders(body), [400])
        : post('huge-attachments-unsigned', body, { 'content-type': JSON_TYPE }, [401]);
    }),
    hugeArray.map(({ text }) =>
      post('huge-array-signed', Buffer.from(text), signedHeaders(text), [400]),
    ),
    fc
      .tuple(
        genericMessage,
        fc.constantFrom('__proto__', 'constructor'),
        fc.constantFrom('messageId', 'text'),
      )
      .chain(([message, key, dropped]) => {
        // Without messageId, or without text (and files): a careless merge of the polluted
        // prototype would supply them.
        const base = withValueAt(message, [dropped], undefined);
        const stripped = dropped === 'text' ? withValueAt(base, ['attachments'], undefined) : base;
        const text = withPollution(stripped, [], key);
        return fc.constantFrom(
          post('proto-keys-signed', Buffer.from(text), signedHeaders(text), [400]),
          post('proto-keys-unsigned', Buffer.from(text), signedHeaders(json(message)), [401]),
        );
      }),
    fc
      .tuple(
        genericMessage,
        fc.constantFrom('text', 'from', 'to', 'messageId', 'displayName'),
        unicodeString,
      )
      .map(([message, field, value]) =>
        post(
          'unicode-unsigned',
          json(withValueAt(message, [field], value)),
          signedHeaders(json(message)),
          [401],
        ),
      ),
    fc.tuple(genericMessage, unicodeString).map(([message, value]) => {
      // Valid text, but no messageId: refused (400) whatever the text holds.
      const body = json(
        withValueAt(withValueAt(message, ['text'], `${value} x`), ['messageId'], undefined),
      );
      return post('unicode-signed-missing-id', body, signedHeaders(body), [400]);
    }),
  ];
  return { webhook, systematic, random: fc.oneof(...generators) };
}

// ---------------------------------------------------------------------------------------------
// SNS: POST /webhooks/connect (JSON read whatever the content type, signed by SNS)
// ---------------------------------------------------------------------------------------------

interface Envelope {
  Type: SignedFields['Type'];
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  UnsubscribeURL?: string;
  Token?: string;
  SubscribeURL?: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

/** A Connect chat item for a contact the bridge never started. */
const chatItem = fc
  .record({
    id: fc.uuid(),
    contactId: fc.uuid(),
    type: fc.constantFrom('MESSAGE', 'EVENT', 'ATTACHMENT'),
    role: fc.constantFrom('AGENT', 'SYSTEM', 'CUSTOMER', 'CUSTOM_BOT'),
    content: unicodeString,
    contentType: fc.constantFrom(
      'text/plain',
      'text/markdown',
      'application/vnd.amazonaws.connect.event.chat.ended',
      'application/vnd.amazonaws.connect.event.participant.joined',
    ),
  })
  .map(({ id, contactId, type, role, content, contentType }) => ({
    message: JSON.stringify({
      Id: id,
      Type: type,
      ContentType: contentType,
      Content: content,
      ParticipantRole: role,
      DisplayName: 'Sam',
      AbsoluteTime: new Date().toISOString(),
      InitialContactId: contactId,
      ContactId: contactId,
    }),
    attributes: {
      InitialContactId: { Type: 'String', Value: contactId },
      ContactId: { Type: 'String', Value: contactId },
      MessageVisibility: { Type: 'String', Value: 'ALL' },
      Type: { Type: 'String', Value: type },
    },
  }));

export function snsCases(context: CaseContext): WebhookCases {
  const webhook = 'sns';
  const path = '/webhooks/connect';
  const post = (
    generator: string,
    body: Buffer,
    expect: FuzzCase['expect'],
    headers: Record<string, string> = { 'content-type': 'text/plain; charset=UTF-8' },
    check?: FuzzCase['check'],
  ): FuzzCase => ({ webhook, generator, method: 'POST', path, headers, body, expect, check });
  const withType = (type: string) => ({
    'content-type': 'text/plain; charset=UTF-8',
    'x-amz-sns-message-type': type,
  });

  /** An envelope signed as SNS signs it (or by `signer`), with the given fields. */
  const envelope = (
    fields: Partial<Envelope> & { Message: string },
    signer = context.snsSigner,
  ): Envelope => {
    const type = fields.Type ?? 'Notification';
    const base: Envelope = {
      Type: type,
      MessageId: fields.MessageId ?? randomUUID(),
      TopicArn: fields.TopicArn ?? TOPIC_ARN,
      ...(fields.Subject !== undefined ? { Subject: fields.Subject } : {}),
      Message: fields.Message,
      Timestamp: fields.Timestamp ?? new Date().toISOString(),
      SignatureVersion: fields.SignatureVersion ?? '2',
      Signature: '',
      SigningCertURL: fields.SigningCertURL ?? context.certificateUrl,
      ...(type === 'Notification'
        ? { UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe' }
        : {
            Token: 'token-0123',
            SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription',
          }),
      ...(fields.MessageAttributes ? { MessageAttributes: fields.MessageAttributes } : {}),
    };
    const version = base.SignatureVersion === '1' ? '1' : '2';
    return { ...base, Signature: signer.sign(base, version) };
  };

  const notification = fc
    .record({
      message: unicodeString,
      version: fc.constantFrom('1', '2'),
      subject: fc.option(asciiString(20), { nil: undefined }),
    })
    .map(({ message, version, subject }) =>
      envelope({ Message: message, SignatureVersion: version, Subject: subject }),
    );

  const template = envelope({
    Message: '{"Id":"x"}',
    Subject: 'subject',
    MessageAttributes: { ContactId: { Type: 'String', Value: 'c-1' } },
  }) as unknown as Json;
  const systematic: FuzzCase[] = pathsOf(template).flatMap((at) =>
    representativeWrongTypes(valueAt(template, at)).map((wrong) =>
      // Every member is checked before the signature: a wrong type is a malformed envelope.
      post(`wrong-type:${pathName(at)}`, json(withValueAt(template, at, wrong)), [400]),
    ),
  );
  const requiredMembers = [
    'Type',
    'MessageId',
    'TopicArn',
    'Message',
    'Timestamp',
    'SignatureVersion',
    'Signature',
    'SigningCertURL',
    'UnsubscribeURL',
  ];
  systematic.push(
    ...requiredMembers.map((member) =>
      post(`missing:${member}`, json(withValueAt(template, [member], undefined)), [400]),
    ),
  );

  const generators: fc.Arbitrary<FuzzCase>[] = [
    fc
      .tuple(randomBytes, contentType)
      .map(([body, type]) => post('random-bytes', body, '4xx', typed(type))),
    fc.jsonValue().map((value) => post('random-json', json(value), '4xx')),
    notification.chain((env) =>
      // Base64 of 256 bytes ends in `==`: the character before them has unused bits.
      offByOne(env.Signature, BASE64, 0, 4).map((signature) =>
        post('signature-off-by-one', json({ ...env, Signature: signature }), [403]),
      ),
    ),
    fc
      .tuple(notification, notification)
      .map(([env, other]) =>
        post('signature-of-another-body', json({ ...env, Signature: other.Signature }), [403]),
      ),
    notification.map((env) =>
      post('signature-other-key', json(envelope({ ...env }, context.otherSigner)), [403]),
    ),
    fc
      .tuple(
        notification,
        fc.constantFrom('x-amz-sns-signature', 'x-amz-signature', 'authorization', 'signature'),
      )
      .map(([env, header]) => {
        const { Signature: signature, ...unsigned } = env;
        return post('signature-in-header', json(unsigned), [400], {
          'content-type': 'text/plain',
          [header]: signature,
        });
      }),
    fc
      .tuple(notification, fc.constantFrom('', '=', '!!!', 'a b', 'AAAA====', '*'.repeat(10)))
      .map(([env, signature]) =>
        post('signature-garbage', json({ ...env, Signature: signature }), [400]),
      ),
    fc
      .tuple(notification, fc.constantFrom('AAAA', 'A'.repeat(344), 'QUJD', 'A'.repeat(5000)))
      .map(([env, signature]) =>
        post('signature-wrong-base64', json({ ...env, Signature: signature }), [403]),
      ),
    fc
      .tuple(fc.constantFrom('0', '3', '11', 'v2', '1.0', ' 2'), unicodeString)
      .map(([version, message]) =>
        post(
          'signed-unsupported-version',
          json(envelope({ Message: message, SignatureVersion: version })),
          [403],
        ),
      ),
    fc
      .tuple(
        fc.constantFrom(
          'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem',
          'http://169.254.169.254/latest/meta-data/',
          'file:///etc/passwd',
          `${context.certificateUrl}?x=1`,
          `${context.certificateUrl}#x`,
          context.certificateUrl.replace('127.0.0.1', 'localhost'),
          context.certificateUrl.replace('http://', 'https://'),
          'not a url',
          `${context.certificateUrl}/../x.pem`,
        ),
        unicodeString,
      )
      .map(([certUrl, message]) =>
        post(
          'signed-certificate-url-not-allowed',
          json(envelope({ Message: message, SigningCertURL: certUrl })),
          [403],
        ),
      ),
    fc
      .tuple(
        fc.oneof(
          fc.constantFrom(
            'arn:aws:sns:us-east-1:123456789012:other',
            `${TOPIC_ARN} `,
            TOPIC_ARN.toUpperCase(),
            `${TOPIC_ARN}.fifo`,
          ),
          asciiString(60).filter((arn) => arn.length > 0 && arn !== TOPIC_ARN),
        ),
        unicodeString,
      )
      .map(([arn, message]) =>
        post(
          'signed-topic-not-allowed',
          json(envelope({ Message: message, TopicArn: arn })),
          [403],
        ),
      ),
    fc
      .tuple(
        fc.oneof(
          fc.integer({ min: 66, max: 60 * 24 * 365 }),
          fc.integer({ min: -60 * 24 * 365, max: -6 }),
        ),
        unicodeString,
      )
      .map(([minutesAgo, message]) =>
        post(
          'signed-stale-or-future',
          json(
            envelope({
              Message: message,
              Timestamp: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
            }),
          ),
          [403],
        ),
      ),
    fc
      .tuple(
        fc.constantFrom(
          '2024-13-01T00:00:00Z',
          'yesterday',
          '',
          '1700000000',
          '2024-01-01',
          '+275760-09-13T00:00:00.000Z',
        ),
        unicodeString,
      )
      .map(([timestamp, message]) =>
        // Signed as given: refused as malformed (400) or as out of the window (403).
        post(
          'signed-bad-timestamp',
          json(envelope({ Message: message, Timestamp: timestamp })),
          [400, 403],
        ),
      ),
    fc
      .tuple(
        notification,
        asciiString(30).filter((type) => type !== 'Notification'),
      )
      .map(([env, declared]) =>
        // A genuine message whose x-amz-sns-message-type contradicts its Type.
        post('signed-type-header-mismatch', json(env), [400], withType(declared)),
      ),
    notification.chain((env) => {
      const body = json(env);
      return truncated(body).map((prefix) => post('truncated', prefix, [400]));
    }),
    oversized(MAX_BODY_BYTES).map(({ kind, body }) => post(`oversized-${kind}`, body, [413])),
    fc.tuple(notification, contentType).map(([env, type]) => {
      const { Signature: _signature, ...unsigned } = env;
      return post(
        'wrong-content-type-unsigned',
        json({ ...unsigned, Signature: 'AAAA' }),
        '4xx',
        typed(type),
      );
    }),
    fc.tuple(notification, fc.constantFrom(...pathsOf(template))).chain(([env, at]) =>
      wrongTypeFor(valueAt(template, at)).map((wrong) =>
        post(
          `wrong-type:${pathName(at)}`,
          json(
            withValueAt(
              {
                ...(env as unknown as Record<string, Json>),
                MessageAttributes: { ContactId: { Type: 'String', Value: 'c-1' } },
              },
              at,
              wrong,
            ),
          ),
          [400],
        ),
      ),
    ),
    fc
      .tuple(deepNesting, fc.constantFrom('top', 'MessageAttributes', 'Message'))
      .map(([{ depth, text }, where]) => {
        const size = depth > 1000 ? 'deep' : 'shallow';
        if (where === 'top') return post(`deep-nesting-${size}`, Buffer.from(text), [400]);
        const env = envelope({ Message: 'deep' });
        const body = JSON.stringify({ ...env, [where]: '__DEEP__' }).replace('"__DEEP__"', text);
        return post(`deep-nesting-${size}-${where}`, Buffer.from(body), [400]);
      }),
    fc.tuple(fc.integer({ min: 100, max: 1_000 }), fc.boolean()).map(([count, signed]) => {
      const attributes = Object.fromEntries(
        Array.from({ length: count }, (_, index) => [
          `a${index}`,
          { Type: 'String', Value: 'x'.repeat(20) },
        ]),
      );
      const env = envelope({ Message: 'not a stream item', MessageAttributes: attributes });
      // MessageAttributes are not signed: with a genuine signature the message is read (and is
      // no stream item); with another body's signature it is refused.
      return signed
        ? post(
            'huge-attributes-signed',
            json(env),
            [200],
            undefined,
            jsonAnswer({ type: 'Notification', outcome: 'invalid' }),
          )
        : post('huge-attributes-unsigned', json({ ...env, Message: 'changed' }), [403]);
    }),
    hugeArray.map(({ text }) => post('huge-array', Buffer.from(text), [400])),
    fc
      .tuple(
        notification,
        fc.constantFrom('__proto__', 'constructor'),
        fc.constantFrom<JsonPath>([], ['MessageAttributes']),
        fc.boolean(),
      )
      .map(([env, key, at, signed]) => {
        const withAttributes = {
          ...(env as unknown as Record<string, Json>),
          MessageAttributes: { ContactId: { Type: 'String', Value: 'c-1' } },
        };
        const value = signed
          ? withAttributes
          : { ...withAttributes, Message: `${env.Message} (changed)` };
        const text = withPollution(value, at, key);
        if (!signed) return post('proto-keys-unsigned', Buffer.from(text), [400, 403]);
        // Unknown members are ignored; a `__proto__` member inside MessageAttributes is not an
        // attribute of the form {Type, Value} (400) unless zod drops it.
        return post(
          `proto-keys-signed-${at.length === 0 ? 'top' : 'attributes'}`,
          Buffer.from(text),
          at.length === 0 ? [200] : [200, 400],
          undefined,
          (answer) =>
            answer.status === 200
              ? jsonAnswer({ type: 'Notification', outcome: 'invalid' })(answer)
              : undefined,
        );
      }),
    fc.tuple(unicodeString, fc.constantFrom('1', '2')).map(([message, version]) =>
      // Genuine, but the Message is no Connect stream item: 200, nothing stored.
      post(
        'signed-not-a-stream-item',
        json(envelope({ Message: message, SignatureVersion: version })),
        [200],
        withType('Notification'),
        (answer) => {
          const isItem = (() => {
            try {
              return typeof (JSON.parse(message) as { Id?: unknown }).Id === 'string';
            } catch {
              return false;
            }
          })();
          return isItem
            ? undefined
            : jsonAnswer({ type: 'Notification', outcome: 'invalid' })(answer);
        },
      ),
    ),
    chatItem.map(({ message, attributes }) =>
      // Genuine stream items of a contact the bridge never started: 200, counted, not stored.
      post(
        'signed-item-of-unknown-contact',
        json(envelope({ Message: message, MessageAttributes: attributes })),
        [200],
        undefined,
        jsonAnswer({ type: 'Notification', outcome: 'not-ours' }),
      ),
    ),
    unicodeString.map((message) =>
      post(
        'signed-unsubscribe-confirmation',
        json(envelope({ Type: 'UnsubscribeConfirmation', Message: message })),
        [200],
        withType('UnsubscribeConfirmation'),
        jsonAnswer({ type: 'UnsubscribeConfirmation', outcome: 'noted' }),
      ),
    ),
  ];
  return { webhook, systematic, random: fc.oneof(...generators) };
}

// ---------------------------------------------------------------------------------------------
// Admin API, console login and Bull Board with bad credentials
// ---------------------------------------------------------------------------------------------

const ADMIN_ROUTES: [string, string][] = [
  ['GET', '/admin/conversations?customer=%2B15550001111'],
  ['GET', '/admin/conversations'],
  ['GET', '/admin/conversations/c-1'],
  ['POST', '/admin/conversations/c-1/end'],
  ['GET', '/admin/jobs'],
  ['GET', '/admin/jobs/inbound/failed?offset=0&limit=500'],
  ['POST', '/admin/jobs/inbound/failed/retry'],
  ['DELETE', '/admin/jobs/outbound/failed'],
  ['POST', '/admin/jobs/inbound/pause'],
  ['POST', '/admin/jobs/outbound/pause'],
  ['POST', '/admin/jobs/inbound/resume'],
  ['POST', '/admin/jobs/inbound/job-1/retry'],
  ['DELETE', '/admin/jobs/outbound/job-1'],
  ['GET', '/admin/queues'],
  ['GET', '/admin/queues/api/queues'],
  ['PUT', '/admin/queues/api/queues/inbound/pause'],
];

interface Credentials {
  name: string;
  headers: Record<string, string>;
  query?: string;
}

export function adminCases(): WebhookCases {
  const webhook = 'admin';
  const token = FUZZ_SECRETS.adminApiToken;
  const tokenAlphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-';
  const wrongToken = fc
    .oneof(
      offByOne(token, tokenAlphabet),
      fc.constant(token.slice(0, -1)),
      fc.constant(`${token}x`),
      fc.constant(token.toUpperCase()),
      fc.constant(''),
      asciiString(64).filter((text) => !/\s/.test(text)),
      fc.constant('x'.repeat(7000)),
    )
    .filter((candidate) => candidate !== token);
  /** Credentials that are not `Bearer <token>`: wrong tokens, schemes, headers and cookies. */
  const badCredentials: fc.Arbitrary<{
    name: string;
    headers: Record<string, string>;
    query?: string;
  }> = fc.oneof(
    fc.constant({ name: 'none', headers: {} }),
    wrongToken.map((given) => ({
      name: 'wrong-bearer',
      headers: { authorization: `Bearer ${given}` },
    })),
    fc.constantFrom<Credentials>(
      { name: 'no-scheme', headers: { authorization: token } },
      {
        name: 'basic',
        headers: { authorization: `Basic ${Buffer.from(`admin:${token}`).toString('base64')}` },
      },
      { name: 'token-scheme', headers: { authorization: `Token ${token}` } },
      { name: 'bearer-twice', headers: { authorization: `Bearer ${token} ${token}` } },
      { name: 'bearer-no-space', headers: { authorization: `Bearer${token}` } },
      { name: 'x-api-key', headers: { 'x-api-key': token } },
      { name: 'x-admin-token', headers: { 'x-admin-token': token } },
      { name: 'query-token', headers: {}, query: `token=${token}` },
      { name: 'query-access-token', headers: {}, query: `access_token=${token}` },
      { name: 'cookie-token', headers: { cookie: `csb_console=${token}` } },
      { name: 'cookie-bearer', headers: { cookie: `authorization=Bearer ${token}` } },
    ),
    fc
      .tuple(
        fc.integer({ min: Date.now() + 60_000, max: Date.now() + 10 ** 12 }),
        fc.string({
          unit: fc.constantFrom(
            ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
          ),
          minLength: 43,
          maxLength: 43,
        }),
      )
      .map(([expiry, mac]) => ({
        name: 'forged-session',
        headers: {
          cookie: `csb_console=${expiry}.${mac}`,
        },
      })),
    fc
      .tuple(
        // The UTF-8 bytes as latin1 characters, without the controls a header cannot hold.
        unicodeString.map((text) =>
          [...Buffer.from(text, 'utf8').toString('latin1')]
            .filter((char) => char === '\t' || (char >= ' ' && char !== '\x7f'))
            .join(''),
        ),
      )
      .map(([value]) => ({ name: 'latin1-bearer', headers: { authorization: `Bearer ${value}` } })),
  );
  const generators: fc.Arbitrary<FuzzCase>[] = [
    fc
      .tuple(
        fc.constantFrom(...ADMIN_ROUTES),
        badCredentials,
        fc.option(randomBytes, { nil: undefined }),
        fc.option(contentType, { nil: undefined }),
      )
      .map(([[method, path], credentials, body, type]) => {
        const separator = path.includes('?') ? '&' : '?';
        return {
          webhook,
          generator: `bad-credentials:${credentials.name}`,
          method,
          path: credentials.query ? `${path}${separator}${credentials.query}` : path,
          headers: { ...credentials.headers, ...(body ? typed(type ?? JSON_TYPE) : {}) },
          body: method === 'GET' ? undefined : body,
          // Refused with a Bearer challenge; a body the parser cannot read may be refused first.
          expect: body && method !== 'GET' ? '4xx' : [401],
          check: (answer: Answer) =>
            answer.status !== 401 ||
            answer.headers['www-authenticate'] === 'Bearer' ||
            path.startsWith('/admin/queues')
              ? undefined
              : `401 without WWW-Authenticate: Bearer (${String(answer.headers['www-authenticate'])})`,
        };
      }),
    fc
      .tuple(
        fc.oneof(
          wrongToken.map((given) => ({ kind: 'form', body: form([['token', given]]) })),
          wrongToken.map((given) => ({ kind: 'json', body: json({ token: given }) })),
          fc.constantFrom(
            { kind: 'json-array', body: json({ token: [token] }) },
            { kind: 'json-object', body: json({ token: { toString: token } }) },
            { kind: 'json-number', body: json({ token: 1 }) },
            { kind: 'json-null', body: json({ token: null }) },
            {
              kind: 'form-repeated',
              body: form([
                ['token', token],
                ['token', token],
              ]),
            },
            { kind: 'form-other-name', body: form([['password', token]]) },
            { kind: 'json-proto', body: Buffer.from(`{"__proto__":{"token":"${token}"}}`) },
            {
              kind: 'json-constructor',
              body: Buffer.from(`{"constructor":{"prototype":{"token":"${token}"}}}`),
            },
          ),
        ),
      )
      .map(([{ kind, body }]) => ({
        webhook,
        generator: `login-${kind}`,
        method: 'POST',
        path: '/admin/login',
        headers: { 'content-type': kind.startsWith('form') ? FORM_TYPE : JSON_TYPE },
        body,
        expect: [401],
        check: (answer: Answer) =>
          answer.headers['set-cookie'] === undefined ? undefined : 'a session cookie was set',
      })),
  ];
  return { webhook, systematic: [], random: fc.oneof(...generators) };
}
