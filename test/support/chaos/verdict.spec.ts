import { checkAgentSide, checkCustomerSide, overlappingContacts } from './verdict';

describe('chaos verdict', () => {
  it('finds customer messages missing, repeated, out of order or unknown at Connect', () => {
    const findings = checkCustomerSide({
      posted: ['m1', 'm2', 'm3', 'm4', 'm5'],
      accepted: ['m1', 'm2', 'm4', 'm5'],
      atConnect: [['m1', 'm3', 'm2', 'm3', 'x', 'm5'], ['m5']],
    });
    expect(findings).toEqual({
      missing: ['m4'],
      duplicated: ['m3'],
      resentAfterChatEnd: ['m5'],
      outOfOrder: ['m2'],
      unknown: ['x'],
    });
    expect(
      checkCustomerSide({ posted: ['a', 'b'], accepted: ['a'], atConnect: [['a', 'b']] }),
    ).toEqual({ missing: [], duplicated: [], resentAfterChatEnd: [], outOfOrder: [], unknown: [] });
    // Two contacts apart, or three copies, is a duplicate all the same.
    expect(
      checkCustomerSide({ posted: ['a'], accepted: ['a'], atConnect: [['a'], [], ['a']] })
        .duplicated,
    ).toEqual(['a']);
  });

  it('tells duplicates after a kill from those without one, and checks the order of first copies', () => {
    const receipt = (sendId: string, token: string, at: number) => ({ sendId, token, at });
    const findings = checkAgentSide({
      expected: ['hello', 'a1', 'a2', 'a3'],
      received: [
        receipt('s0', 'hello', 1),
        receipt('s1', 'a1', 10),
        receipt('s1', 'a1', 30),
        receipt('s3', 'a3', 40),
        receipt('s2', 'a2', 50),
        receipt('s2', 'a2', 55),
      ],
      kills: [20],
    });
    expect(findings.duplicatesAfterKill).toEqual(['a1']);
    expect(findings.unexplainedDuplicates).toEqual([{ token: 'a2', firstAt: 50, againAt: 55 }]);
    expect(findings.outOfOrder).toBe(true);
    expect(findings.divergence).toEqual({
      index: 2,
      expected: ['hello', 'a1', 'a2', 'a3'],
      received: ['hello', 'a1', 'a3', 'a2'],
    });
    expect(findings.missing).toEqual([]);

    const short = checkAgentSide({ expected: ['g', 'g', 'a1'], received: [], kills: [] });
    expect(short.missing).toEqual(['g', 'g', 'a1']);
    expect(short.outOfOrder).toBe(true);
  });

  it('finds contacts of one customer that were live at the same time', () => {
    expect(
      overlappingContacts([
        { contactId: 'c1', createdAt: 0, endedAt: 10 },
        { contactId: 'c2', createdAt: 10, endedAt: 20 },
        { contactId: 'c3', createdAt: 15 },
      ]),
    ).toEqual([['c2', 'c3']]);
  });
});
