import removeMarkdown from 'remove-markdown';

const AUTOLINK = /<((?:https?|mailto):[^\s<>]+)>/g;
// remove-markdown rewrites `[text](url)` (separateLinksAndTexts) before it removes images, which
// would turn `![alt](url)` into `!alt: url`; images go to their alt text first.
const IMAGE = /!\[([^\]]*)\]\([^)]*\)/g;

/**
 * Markdown as a plain-text channel should show it: emphasis, headings and code marks go, list
 * leaders stay, a link keeps its URL (`text: url`), an image its alt text.
 */
export function markdownToPlainText(markdown: string): string {
  return removeMarkdown(markdown.replace(IMAGE, '$1').replace(AUTOLINK, '$1'), {
    stripListLeaders: false,
    gfm: true,
    useImgAltText: true,
    separateLinksAndTexts: ': ',
  }).trim();
}
