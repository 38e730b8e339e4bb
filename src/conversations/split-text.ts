/**
 * Splits text into ordered parts of at most `limit` characters, on whitespace where there is
 * any (a single word longer than the limit is cut). Parts keep the text's own characters:
 * joining them with the whitespace that separated them gives the text back.
 */
export function splitText(text: string, limit: number): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > limit) {
    const window = rest.slice(0, limit + 1);
    const breakAt = Math.max(window.lastIndexOf(' '), window.lastIndexOf('\n'));
    const cut = breakAt > 0 ? breakAt : limit;
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0) parts.push(rest);
  return parts;
}
