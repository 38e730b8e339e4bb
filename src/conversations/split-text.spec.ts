import { splitText } from './split-text';

describe('splitText', () => {
  it('keeps a short text whole', () => {
    expect(splitText('hello there', 1024)).toEqual(['hello there']);
    expect(splitText('  ', 1024)).toEqual([]);
  });

  it('splits a 2 500-character text into three ordered parts on word boundaries', () => {
    const words = Array.from({ length: 500 }, (_, i) => `w${String(i).padStart(3, '0')}`);
    const text = words.join(' ');
    expect(text.length).toBe(2_499);
    const parts = splitText(text, 1024);
    expect(parts).toHaveLength(3);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(1024);
      expect(part).toMatch(/^w\d{3}( w\d{3})*$/);
    }
    expect(parts.join(' ')).toBe(text);
  });

  it('cuts a word longer than the limit', () => {
    expect(splitText('a'.repeat(10), 4)).toEqual(['aaaa', 'aaaa', 'aa']);
  });

  it('breaks at newlines too', () => {
    expect(splitText('line one\nline two', 9)).toEqual(['line one', 'line two']);
  });
});
