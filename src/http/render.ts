import ejs from 'ejs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { translate } from '../lib/i18n.ts';
import { currentLocale, languageLinks } from './locale.ts';

export const VIEWS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../views');

export type Renderer = (view: string, locals?: Record<string, unknown>) => Promise<string>;

/**
 * Renders views/<view>.ejs inside views/layout.ejs. Every value goes through `<%= %>` (escaped);
 * the only unescaped insertions are the rendered body and provider-made forms, never user input.
 * Views get `lang` and `t(text, vars?)` in the request's language (http/locale.ts); the layout, the language switch's links.
 */
export function createRenderer(opts: { cache: boolean; viewsDir?: string }): Renderer {
  const dir = opts.viewsDir ?? VIEWS_DIR;
  const options = { cache: opts.cache, async: true, root: dir, views: [dir] };
  return async function render(view, locals = {}) {
    const lang = currentLocale();
    const t = (text: string, vars?: Record<string, unknown>) => translate(lang, text, vars);
    const all = { lang, t, ...locals };
    const body = await ejs.renderFile(path.join(dir, `${view}.ejs`), all, options);
    // An error page offers no language switch: its link would carry the refused request's query (a tampered
    // authorization_details, say) back onto the page, and following it would only send the refused request again.
    const links = view.startsWith('errors/') ? [] : languageLinks();
    return ejs.renderFile(path.join(dir, 'layout.ejs'), { title: 'Cyber card', languageLinks: links, ...all, body }, options);
  };
}
