/**
 * The AWS Query protocol as SNS speaks it: form-encoded parameters in, XML out.
 * See https://docs.aws.amazon.com/sns/latest/api/CommonParameters.html and the
 * awsQuery serialization of @aws-sdk/client-sns (lists as `X.member.N`, maps as `X.entry.N.key`).
 */

export const SNS_API_VERSION = '2010-03-31';
const XML_NAMESPACE = `http://sns.amazonaws.com/doc/${SNS_API_VERSION}/`;

/** An error as SNS answers it; the SDK maps `code` to its typed exception (NotFound → NotFoundException). */
export class SnsApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly faultType: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
    this.name = code;
  }
}

export const SnsErrors = {
  invalidParameter: (message: string) => new SnsApiError('InvalidParameter', 400, message),
  invalidParameterValue: (message: string) =>
    new SnsApiError('ParameterValueInvalid', 400, message),
  notFound: (message: string) => new SnsApiError('NotFound', 404, message),
  authorization: (message: string) => new SnsApiError('AuthorizationError', 403, message),
  missingValue: (member: string) =>
    new SnsApiError(
      'ValidationError',
      400,
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    ),
  invalidAction: (action: string, version: string) =>
    new SnsApiError(
      'InvalidAction',
      400,
      `Could not find operation ${action} for version ${version}`,
    ),
  missingAction: () =>
    new SnsApiError('MissingAction', 400, 'The request must contain the parameter Action.'),
};

/** The flat `Name=value` parameters of one request. */
export class QueryParams {
  constructor(private readonly values: Record<string, string>) {}

  /** Parameters as express parsed them (query string or form body); repeated keys keep the first value. */
  static from(parsed: unknown): QueryParams {
    const values: Record<string, string> = {};
    if (parsed && typeof parsed === 'object') {
      for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
        const first: unknown = Array.isArray(value) ? value[0] : value;
        if (typeof first === 'string') values[key] = first;
      }
    }
    return new QueryParams(values);
  }

  optional(name: string): string | undefined {
    return this.values[name];
  }

  /** `member` is the name AWS uses in its validation message (camelCase). */
  required(name: string, member: string): string {
    const value = this.values[name];
    if (value === undefined) throw SnsErrors.missingValue(member);
    return value;
  }

  /** The entries of an awsQuery map `prefix.entry.N.*`, each with the `prefix.entry.N.` part removed. */
  mapEntries(prefix: string): Record<string, string>[] {
    const entries: Record<string, string>[] = [];
    for (let n = 1; ; n++) {
      const entryPrefix = `${prefix}.entry.${n}.`;
      const entry: Record<string, string> = {};
      for (const [key, value] of Object.entries(this.values)) {
        if (key.startsWith(entryPrefix)) entry[key.slice(entryPrefix.length)] = value;
      }
      if (Object.keys(entry).length === 0) return entries;
      entries.push(entry);
    }
  }

  /** An awsQuery `map<string, string>` serialized with lowercase `key`/`value` (SNS's Attributes maps). */
  stringMap(prefix: string): Record<string, string> {
    const map: Record<string, string> = {};
    for (const entry of this.mapEntries(prefix)) {
      if (entry.key !== undefined) map[entry.key] = entry.value ?? '';
    }
    return map;
  }
}

/** An XML tree: text, or elements by tag name (an array repeats the tag; undefined omits it). */
export type XmlNode = string | { [tag: string]: XmlNode | XmlNode[] | undefined };

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => XML_ENTITIES[char]);
}

function renderElement(tag: string, node: XmlNode | XmlNode[] | undefined): string {
  if (node === undefined) return '';
  if (Array.isArray(node)) return node.map((item) => renderElement(tag, item)).join('');
  if (typeof node === 'string') return `<${tag}>${escapeXml(node)}</${tag}>`;
  const children = Object.entries(node).map(([childTag, child]) => renderElement(childTag, child));
  return `<${tag}>${children.join('')}</${tag}>`;
}

/** `<{Action}Response>` with `<{Action}Result>` (omitted for actions without output) and the request id. */
export function actionResponseXml(action: string, requestId: string, result?: XmlNode): string {
  const body =
    (result === undefined ? '' : renderElement(`${action}Result`, result)) +
    renderElement('ResponseMetadata', { RequestId: requestId });
  return `<${action}Response xmlns="${XML_NAMESPACE}">${body}</${action}Response>`;
}

export function errorResponseXml(error: SnsApiError, requestId: string): string {
  const detail = renderElement('Error', {
    Type: error.faultType,
    Code: error.code,
    Message: error.message,
  });
  return `<ErrorResponse xmlns="${XML_NAMESPACE}">${detail}${renderElement('RequestId', requestId)}</ErrorResponse>`;
}
