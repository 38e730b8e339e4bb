import removeMarkdown from 'remove-markdown';

const AUTOLINK = /<(?:mailto:)?((?:https?:\/\/)?[^\s<>]+[.@][^\s<>]+)>/g;
// remove-markdown rewrites `[text](url)` (separateLinksAndTexts) before it removes images, which
// would turn `![alt](url)` into `!alt: url`; images go to their alt text first.
const IMAGE = /!\[([^\]]*)\]\([^)]*\)/g;
// remove-markdown drops everything from a `<` to the next `>` as an HTML tag, so `3 < 4 and
// 5 > 2` would lose its middle: a `<` that cannot open a tag is kept aside and put back.
const LONE_LESS_THAN = /<(?![A-Za-z/!])/g;
const KEPT_LESS_THAN = '\u0000';

/**
 * Markdown as a plain-text channel should show it: emphasis, headings and code marks go, list
 * leaders stay, a link keeps its URL (`text: url`), an image its alt text.
 */
export function markdownToPlainText(markdown: string): string {
  const prepared = markdown
    .replaceAll(KEPT_LESS_THAN, '')
    .replace(IMAGE, '$1')
    .replace(AUTOLINK, '$1')
    .replace(LONE_LESS_THAN, KEPT_LESS_THAN);
  return removeMarkdown(prepared, {
    stripListLeaders: false,
    gfm: true,
    useImgAltText: true,
    separateLinksAndTexts: ': ',
  })
    .replaceAll(KEPT_LESS_THAN, '<')
    .trim();
}
