import { html } from './html';

describe('html', () => {
  it('escapes every interpolated value, in text and in quoted attributes', () => {
    const hostile = `<script>alert("x")</script> & 'quoted'`;
    expect(String(html`<p title="${hostile}">${hostile}</p>`)).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;</p>',
    );
  });

  it('keeps markup built by html as markup, and escapes what that markup interpolated', () => {
    const item = (text: string) => html`<li>${text}</li>`;
    // prettier-ignore
    const list = html`<ul>${['a<b', 'c&d'].map(item)}</ul>`;
    expect(String(list)).toBe('<ul><li>a&lt;b</li><li>c&amp;d</li></ul>');
  });

  it('renders numbers as text, and false, null and undefined as nothing', () => {
    const shown = false;
    expect(String(html`${0}|${12.5}|${shown && html`<b>x</b>`}|${null}|${undefined}|`)).toBe(
      '0|12.5||||',
    );
  });

  it('does not take a string that looks like markup, or an object pretending to be some, as markup', () => {
    const forged = { markup: '<img src=x onerror=alert(1)>' } as unknown as string;
    expect(String(html`${'<b>bold</b>'}${forged}`)).toBe('&lt;b&gt;bold&lt;/b&gt;[object Object]');
  });
});
