/**
 * What the caller's token may do, so a client (the web console) offers only what it may: public,
 * but a token that is sent is checked as on any route, so a wrong one is told so.
 */
import { z } from 'zod';
import { type TokenLists, tokenKind } from '../auth.js';
import { type AnyRoute, defineRoute } from '../route.js';

export function whoamiRoutes(lists: TokenLists): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/whoami',
      summary: 'Who am I',
      tag: 'server',
      optionalAuth: true,
      response: z.object({
        auth_required: z.boolean().describe('the server has tokens: every other route wants one'),
        authenticated: z.boolean().describe('the request sent an accepted token'),
        can_write: z.boolean().describe('may call routes other than GET'),
        can_read_secrets: z.boolean().describe('may read secret values in run input'),
      }),
      handler: async ({ request }) => {
        if (!lists.tokens.length)
          return { auth_required: false, authenticated: false, can_write: true, can_read_secrets: false };
        // The auth hook has refused a token no list holds, so `none` here means none was sent.
        const kind = tokenKind(request, lists);
        return {
          auth_required: true,
          authenticated: kind !== 'none',
          can_write: kind === 'full' || kind === 'read_secrets',
          can_read_secrets: kind === 'read_secrets',
        };
      },
    }),
  ];
}
