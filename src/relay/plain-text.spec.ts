import { markdownToPlainText } from './plain-text';

describe('markdownToPlainText', () => {
  it.each([
    [
      'bold and italic',
      '**Good news:** your *order* has __shipped__',
      'Good news: your order has shipped',
    ],
    ['underscore emphasis', 'this is _really_ it', 'this is really it'],
    ['strikethrough', 'price ~~£20~~ £15', 'price £20 £15'],
    ['an ATX heading', '# Your order\n\nIt is on its way.', 'Your order\n\nIt is on its way.'],
    ['a heading with emphasis', '## Step *two*', 'Step two'],
    ['inline code', 'Reply `STOP` to opt out', 'Reply STOP to opt out'],
    ['a fenced code block', '```\nORDER-1042\n```', 'ORDER-1042'],
    ['a blockquote', '> You wrote: hello', 'You wrote: hello'],
  ])('removes the marks of %s', (_, markdown, text) => {
    expect(markdownToPlainText(markdown)).toBe(text);
  });

  it('keeps bullet and numbered list leaders', () => {
    const list = '- one\n- two\n* three\n1. first\n2. second';
    expect(markdownToPlainText(list)).toBe(list);
  });

  it('keeps the URL of a link after its text', () => {
    expect(markdownToPlainText('see [your order](https://shop.example.com/o/1042) today')).toBe(
      'see your order: https://shop.example.com/o/1042 today',
    );
  });

  it('turns an autolink into its URL', () => {
    expect(markdownToPlainText('go to <https://example.com/help?q=1> now')).toBe(
      'go to https://example.com/help?q=1 now',
    );
    expect(markdownToPlainText('<http://example.com>')).toBe('http://example.com');
  });

  it('turns an image into its alt text', () => {
    expect(markdownToPlainText('![Your parcel](https://cdn.example.com/p.png)')).toBe(
      'Your parcel',
    );
    expect(
      markdownToPlainText('Here: ![map of the store](https://cdn.example.com/map.png) and more'),
    ).toBe('Here: map of the store and more');
  });

  it.each([
    'Hello, how can I help?',
    'Your code is 1042. Call +1 555 0100 (9am-5pm).',
    'snake_case_name stays as written',
    'price is 5 * 3 = 15',
    'Line one\nLine two',
  ])('leaves plain text unchanged: %p', (text) => {
    expect(markdownToPlainText(text)).toBe(text);
  });

  it('trims surrounding whitespace', () => {
    expect(markdownToPlainText('\n  **Thanks!**  \n\n')).toBe('Thanks!');
  });
  it('keeps comparisons that are not HTML tags, and drops tags', () => {
    expect(markdownToPlainText('3 < 4 and 5 > 2')).toBe('3 < 4 and 5 > 2');
    expect(markdownToPlainText('a <b>bold</b> move <= 10')).toBe('a bold move <= 10');
  });

  it('turns an e-mail autolink into the address', () => {
    expect(markdownToPlainText('write to <mailto:help@example.com>')).toBe(
      'write to help@example.com',
    );
    expect(markdownToPlainText('write to <help@example.com>')).toBe('write to help@example.com');
  });
});
