import fc from 'fast-check';

/** Payloads are plain JSON values. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonPath = (string | number)[];

export const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

/** `application/x-www-form-urlencoded` of the pairs, in order. */
export const form = (pairs: Iterable<[string, string]>): Buffer =>
  Buffer.from(new URLSearchParams([...pairs]).toString(), 'utf8');

export const JSON_TYPE = 'application/json';
export const FORM_TYPE = 'application/x-www-form-urlencoded';

/** Random bytes: mostly short, some up to a few KB. */
export const randomBytes: fc.Arbitrary<Buffer> = fc
  .oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 4096 }))
  .map((bytes) => Buffer.from(bytes));

/** Content types a client may send, right, wrong and broken; undefined sends none. */
export const CONTENT_TYPES: readonly (string | undefined)[] = [
  undefined,
  '',
  JSON_TYPE,
  'application/json; charset=utf-8',
  FORM_TYPE,
  'text/plain',
  'text/plain; charset=UTF-8',
  'application/octet-stream',
  'multipart/form-data; boundary=----fuzz',
  'application/xml',
  'text/xml',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json; charset=utf-7',
  `${FORM_TYPE}; charset=iso-8859-1`,
  'application/vnd.api+json',
  'APPLICATION/JSON',
  'application/json, text/plain',
  'application/json; charset="',
  ';;;',
  'x/y/z',
  'text/html',
];

export const contentType = fc.constantFrom(...CONTENT_TYPES);

/** Headers for a content type; none at all when undefined. */
export const typed = (type: string | undefined): Record<string, string> =>
  type === undefined ? {} : { 'content-type': type };

/** Strings that have broken parsers, loggers and encoders before. */
export const EDGE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  '\u0000\u0001\u001f\u007f',
  '\uFEFF',
  '\uD800',
  '\uDFFF',
  'a\uDC00b\uD83D',
  '\u202Eevil\u202C',
  '\u2028\u2029',
  'e\u0301'.repeat(300),
  '👩‍👩‍👧‍👦'.repeat(40),
  '𝕳𝖊𝖑𝖑𝖔 ｆｕｌｌｗｉｄｔｈ',
  '\u00A0\u3000',
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǒ̮̥',
  'ـ'.repeat(2000),
  '%00%ff%E0%A4%A',
  '%',
  '\\u0000\\ud800',
  '"\'<>&',
  '<script>alert(1)</script>',
  '${7*7}{{7*7}}#{7*7}',
  '__proto__',
  'constructor',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e309',
  '\r\n\r\nX-Injected: 1',
  '../../../../etc/passwd',
  '+15550001111\u0000',
  'x'.repeat(5000),
];

const edgeChar = fc.constantFrom(
  '\u0000',
  '\uD800',
  '\uDC00',
  '\uFFFF',
  '\uFEFF',
  '\u202E',
  '\u0301',
  '😀',
  'ß',
  'İ',
  '\\',
  '"',
  '%',
  '&',
  '=',
  '+',
);

/** Unicode edge cases: the fixed list, arbitrary code points, graphemes and mixed edge characters. */
export const unicodeString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...EDGE_STRINGS),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 32 }),
  fc.string({ unit: edgeChar, maxLength: 64 }),
);

/** No lone surrogate (String#isWellFormed, which ES2023 typings lack). */
export const isWellFormed = (text: string): boolean => !/[\uD800-\uDFFF]/u.test(text);

/** Printable ASCII, safe in a URL after encodeURIComponent and in a header value. */
export const asciiString = (maxLength = 64): fc.Arbitrary<string> =>
  fc.string({ unit: 'grapheme-ascii', maxLength });

export const digits = (minLength: number, maxLength = minLength): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength, maxLength });

export const hex = (length: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });

export const e164 = digits(10).map((number) => `+1${number}`);

/** A readable, non-empty message text. */
export const messageText = fc
  .string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 80 })
  .filter((text) => text.trim() !== '');

type Kind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

export function kindOf(value: unknown): Kind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  if (type === 'boolean' || type === 'number' || type === 'string') return type;
  return 'object';
}

/** Values of every JSON type; the first of each kind is the systematic representative. */
const VALUES_BY_KIND: Record<Kind, Json[]> = {
  null: [null],
  boolean: [true, false],
  number: [0, -1, 1.5, 1e308, 9007199254740992, -2147483649],
  string: ['', 'x', '0', 'true', 'x'.repeat(300)],
  array: [[], [null], ['x'], [[[]]], [{}]],
  object: [{}, { x: 1 }, { length: 1 }, { '': null }],
};

/** One value of each type other than the value's own: the systematic wrong types. */
export function representativeWrongTypes(value: unknown): Json[] {
  const own = kindOf(value);
  return (Object.keys(VALUES_BY_KIND) as Kind[])
    .filter((kind) => kind !== own)
    .map((kind) => VALUES_BY_KIND[kind][0]);
}

/** Any value of a type other than the value's own. */
export function wrongTypeFor(value: unknown): fc.Arbitrary<Json> {
  const own = kindOf(value);
  const values = (Object.keys(VALUES_BY_KIND) as Kind[])
    .filter((kind) => kind !== own)
    .flatMap((kind) => VALUES_BY_KIND[kind]);
  return fc.constantFrom(...values);
}

/** Every path to a value inside `value` (not the root itself), parents first. */
export function pathsOf(value: Json, prefix: JsonPath = []): JsonPath[] {
  if (value === null || typeof value !== 'object') return [];
  const entries: [string | number, Json][] = Array.isArray(value)
    ? value.map((child, index) => [index, child])
    : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

export function valueAt(value: Json, path: JsonPath): Json {
  let node: unknown = value;
  for (const key of path) node = (node as Record<string | number, unknown>)[key];
  return node as Json;
}

/** A copy of `value` with the value at `path` replaced (or removed, for `undefined`). */
export function withValueAt(value: Json, path: JsonPath, replacement: Json | undefined): Json {
  const copy = structuredClone(value);
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (replacement === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    parent[last] = replacement;
  }
  return copy;
}

export const pathName = (path: JsonPath): string => path.join('.') || '(root)';

/** A body nested `depth` levels deep: arrays, objects or both. */
export const deepNesting: fc.Arbitrary<{ depth: number; text: string }> = fc
  .record({
    depth: fc.oneof(fc.integer({ min: 10, max: 200 }), fc.integer({ min: 200, max: 10_000 })),
    kind: fc.constantFrom('array', 'object', 'mixed'),
  })
  .map(({ depth, kind }) => {
    const open = kind === 'array' ? '[' : kind === 'object' ? '{"a":' : '[{"a":';
    const close = kind === 'array' ? ']' : kind === 'object' ? '}' : '}]';
    const levels = kind === 'mixed' ? Math.floor(depth / 2) : depth;
    return { depth, text: `${open.repeat(levels)}1${close.repeat(levels)}` };
  });

/** A JSON array text of `length` small items. */
export const hugeArray: fc.Arbitrary<{ length: number; text: string }> = fc
  .record({
    length: fc.integer({ min: 1_000, max: 12_000 }),
    item: fc.constantFrom('0', 'null', '{}', '""', '[]'),
  })
  .map(({ length, item }) => ({
    length,
    text: `[${new Array<string>(length).fill(item).join(',')}]`,
  }));

/** Keys that pollute a prototype when merged carelessly, and names of Object.prototype. */
export const PROTO_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '__defineGetter__',
];

/**
 * JSON text of `value` with prototype-pollution members added to the object at `path`:
 * `"__proto__": {…}` (an own member once parsed, which a careless merge would follow) and
 * `"constructor": {"prototype": {…}}`.
 */
export function withPollution(value: Json, path: JsonPath, key: string): string {
  const marker = '"__fuzz_pollution__":0';
  const target = valueAt(value, path);
  if (target === null || typeof target !== 'object' || Array.isArray(target)) {
    throw new Error(`no object at ${pathName(path)}`);
  }
  const polluted = withValueAt(value, [...path, '__fuzz_pollution__'], 0);
  const member =
    key === 'constructor'
      ? '"constructor":{"prototype":{"polluted":"yes","text":"polluted"}}'
      : `${JSON.stringify(key)}:{"polluted":"yes","text":"polluted","isAdmin":true}`;
  const text = JSON.stringify(polluted);
  if (!text.includes(marker)) throw new Error('the marker is missing');
  return text.replace(marker, member);
}

/** Paths of the objects (not arrays, not scalars) inside `value`, the root included. */
export function objectPathsOf(value: Json): JsonPath[] {
  return [[], ...pathsOf(value)].filter((path) => {
    const node = valueAt(value, path);
    return node !== null && typeof node === 'object' && !Array.isArray(node);
  });
}

/**
 * The signature with one character replaced by another of `alphabet`, at a position between
 * `from` and `length - tail` (so that base64 padding and its unused bits stay out of reach).
 */
export function offByOne(
  signature: string,
  alphabet: string,
  from = 0,
  tail = 0,
): fc.Arbitrary<string> {
  return fc
    .record({
      at: fc.integer({ min: from, max: Math.max(from, signature.length - tail - 1) }),
      pick: fc.nat(),
    })
    .map(({ at, pick }) => {
      const others = [...alphabet].filter(
        (char) => char.toLowerCase() !== signature[at].toLowerCase(),
      );
      return `${signature.slice(0, at)}${others[pick % others.length]}${signature.slice(at + 1)}`;
    });
}

export const HEX = '0123456789abcdef';
export const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A prefix of the body, strictly shorter and at least `min` bytes long. */
export function truncated(body: Buffer, min = 1): fc.Arbitrary<Buffer> {
  return fc
    .integer({ min: Math.min(min, body.length - 1), max: body.length - 1 })
    .map((length) => body.subarray(0, length));
}

/** A body of more than `limit` bytes: `kind` says whether it is JSON, a form or noise. */
export function oversized(limit: number): fc.Arbitrary<{ kind: string; body: Buffer }> {
  return fc
    .record({
      extra: fc.integer({ min: 1, max: 3 * limit }),
      kind: fc.constantFrom('json', 'form', 'bytes'),
    })
    .map(({ extra, kind }) => {
      const size = limit + extra;
      if (kind === 'json') {
        const text = JSON.stringify({ text: 'x'.repeat(size) });
        return { kind, body: Buffer.from(text) };
      }
      if (kind === 'form') return { kind, body: Buffer.from(`Body=${'y'.repeat(size)}`) };
      return { kind, body: Buffer.alloc(size, 0xab) };
    });
}
