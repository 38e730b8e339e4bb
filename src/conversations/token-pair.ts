/** The customer participant's tokens of a contact, stored together (README.md beside this file). */
export interface TokenPair {
  participantToken: string;
  connectionToken: string;
}

/** Flag bits: the token is stored base64-decoded. */
const PARTICIPANT_DECODED = 0b01;
const CONNECTION_DECODED = 0b10;
const HEADER_BYTES = 5;

/**
 * flags (1 byte) ‖ byte length of the participant token (uint32 BE) ‖ participant token ‖
 * connection token. A token in canonical base64, as Connect issues them, is stored decoded (a
 * quarter smaller); any other as UTF-8. The flags byte (0-3) keeps a packed pair from ever
 * starting with a version prefix (`v<n>:`), which would read back as a sealed value.
 */
export function packTokens(pair: TokenPair): Buffer {
  const participant = tokenBytes(pair.participantToken);
  const connection = tokenBytes(pair.connectionToken);
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] =
    (participant.decoded ? PARTICIPANT_DECODED : 0) | (connection.decoded ? CONNECTION_DECODED : 0);
  header.writeUInt32BE(participant.bytes.length, 1);
  return Buffer.concat([header, participant.bytes, connection.bytes]);
}

/** The pair `packTokens` packed; undefined for bytes it cannot have written. */
export function unpackTokens(packed: Buffer): TokenPair | undefined {
  if (packed.length < HEADER_BYTES) return undefined;
  const flags = packed[0];
  const participantEnd = HEADER_BYTES + packed.readUInt32BE(1);
  if (flags > (PARTICIPANT_DECODED | CONNECTION_DECODED) || participantEnd > packed.length) {
    return undefined;
  }
  const text = (bytes: Buffer, decoded: boolean) => bytes.toString(decoded ? 'base64' : 'utf8');
  const participantToken = text(
    packed.subarray(HEADER_BYTES, participantEnd),
    (flags & PARTICIPANT_DECODED) !== 0,
  );
  const connectionToken = text(packed.subarray(participantEnd), (flags & CONNECTION_DECODED) !== 0);
  if (!participantToken || !connectionToken) return undefined;
  return { participantToken, connectionToken };
}

function tokenBytes(token: string): { bytes: Buffer; decoded: boolean } {
  const decoded = Buffer.from(token, 'base64');
  // Only a token that re-encodes to itself comes back exactly (no padding, alphabet or
  // whitespace variant is lost).
  return decoded.toString('base64') === token
    ? { bytes: decoded, decoded: true }
    : { bytes: Buffer.from(token, 'utf8'), decoded: false };
}
