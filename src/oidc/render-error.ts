import type { KoaContextWithOIDC, ErrorOut } from 'oidc-provider';
import { preferUiLocales } from '../http/locale.ts';
import type { Renderer } from '../http/render.ts';

const DESCRIPTIONS: Record<string, string> = {
  invalid_request: 'The member site sent a request the card manager cannot accept.',
  invalid_client: 'The member site is not registered with the card manager.',
  invalid_redirect_uri: 'The member site asked to return to an address it has not registered.',
  access_denied: 'The request was refused.',
};

/** oidc-provider's renderError: errors that cannot go back to the member site, as our error page. */
export function createRenderError(render: Renderer) {
  return async function renderError(ctx: KoaContextWithOIDC, out: ErrorOut): Promise<void> {
    preferUiLocales(ctx, ctx.oidc?.params?.ui_locales);
    ctx.type = 'html';
    ctx.body = await render('errors/error', {
      title: 'Cannot continue',
      heading: 'The card manager cannot continue',
      message: out.error_description ?? DESCRIPTIONS[out.error] ?? 'The request could not be completed.',
      requestId: (ctx.state as { requestId?: string }).requestId,
    });
  };
}
