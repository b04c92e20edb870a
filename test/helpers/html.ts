/** Small readers for our server-rendered pages (ejs escapes & < > " ' as entities). */

export function unescapeHtml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#34;/g, '"')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The message shown beside a field (`<p id="<name>-error">`), or undefined. */
export function fieldError(html: string, name: string): string | undefined {
  const m = new RegExp(`id="${name}-error">([^<]*)<`).exec(html);
  return m ? unescapeHtml(m[1]!) : undefined;
}

/** The value an <input name="…"> was refilled with, or undefined when it has none. */
export function inputValue(html: string, name: string): string | undefined {
  const m = new RegExp(`name="${name}"[^>]*?value="([^"]*)"`).exec(html);
  return m ? unescapeHtml(m[1]!) : undefined;
}

/** The text of the page's alert (the form-level message), or undefined. */
export function alertText(html: string): string | undefined {
  const m = /role="alert"[^>]*>([^<]*)</.exec(html);
  return m ? unescapeHtml(m[1]!).replace(/\s+/g, ' ').trim() : undefined;
}

/** Every field that has a message beside it (the form-level alert, id "form-error", is not a field). */
export function fieldsWithErrors(html: string): string[] {
  return [...html.matchAll(/<p class="field-error" id="([a-z_]+)-error"/g)].map((m) => m[1]!);
}

/** The page without its table cells' column names (data-label, which a phone shows beside each stacked cell). */
export function withoutCellLabels(html: string): string {
  return html.replace(/ data-label="[^"]*"/g, '');
}
