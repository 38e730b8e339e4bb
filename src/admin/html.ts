/** Markup built by `html`: interpolating it into another template keeps it as markup. */
class SafeHtml {
  constructor(readonly markup: string) {}

  toString(): string {
    return this.markup;
  }
}

export type { SafeHtml };

/** What a template may interpolate: `false`, null and undefined render nothing (`${ok && html`…`}`). */
export type Interpolation =
  SafeHtml | string | number | false | null | undefined | readonly Interpolation[];

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function render(value: Interpolation): string {
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === false || value === null || value === undefined) return '';
  return String(value).replace(/[&<>"']/g, (char) => ENTITIES[char]);
}

/**
 * A tagged template for HTML: every interpolated value is escaped (text and quoted attribute
 * values alike) unless it was itself built by `html`; arrays are rendered item by item.
 */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  return new SafeHtml(
    strings.reduce((markup, literal, i) => markup + render(values[i - 1]) + literal),
  );
}
