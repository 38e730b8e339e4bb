import { randomBytes } from 'node:crypto';
import { packTokens, unpackTokens } from './token-pair';

/** The shape Connect issues: 612 characters of standard, padded base64. */
const connectToken = () => randomBytes(459).toString('base64');

describe('packTokens', () => {
  it('stores canonical base64 tokens decoded, and gets them back exactly', () => {
    const pair = { participantToken: connectToken(), connectionToken: connectToken() };
    const packed = packTokens(pair);
    expect(packed).toHaveLength(5 + 459 + 459);
    expect(packed[0]).toBe(0b11);
    expect(unpackTokens(packed)).toEqual(pair);
  });

  it.each([
    ['base64url', 'QUJD-_REVGR0hJ'],
    ['base64 without its padding', 'QUJDQQ'],
    ['base64 with a line break', 'QUJD\nREVG'],
    ['text', 'pt-token-ü-€'],
  ])('keeps a token in %s as UTF-8, exactly', (_shape, token) => {
    const pair = { participantToken: token, connectionToken: connectToken() };
    const packed = packTokens(pair);
    expect(packed[0]).toBe(0b10);
    expect(unpackTokens(packed)).toEqual(pair);
    const swapped = { participantToken: connectToken(), connectionToken: token };
    expect(packTokens(swapped)[0]).toBe(0b01);
    expect(unpackTokens(packTokens(swapped))).toEqual(swapped);
  });

  it('never starts with a version prefix', () => {
    const packed = packTokens({ participantToken: 'v2:abc', connectionToken: 'v1:def' });
    expect(packed.subarray(0, 3).toString('latin1')).not.toMatch(/^v\d/);
    expect(unpackTokens(packed)).toEqual({ participantToken: 'v2:abc', connectionToken: 'v1:def' });
  });

  it('refuses bytes it cannot have written', () => {
    const packed = packTokens({ participantToken: 'pt-1', connectionToken: 'ct-1' });
    expect(unpackTokens(packed.subarray(0, 4))).toBeUndefined();
    expect(unpackTokens(Buffer.concat([Buffer.from([4]), packed.subarray(1)]))).toBeUndefined();
    const tooLong = Buffer.from(packed);
    tooLong.writeUInt32BE(100, 1);
    expect(unpackTokens(tooLong)).toBeUndefined();
    expect(unpackTokens(packed.subarray(0, 9))).toBeUndefined();
  });
});
