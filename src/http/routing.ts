// Each endpoint answers at its exact path only: `/v1/revoke_tokens/` or `/V1/REVOKE_TOKENS` is a 404, not an alias
// (a proxy rule, a log filter or an allow-list written for the exact path must not be sidestepped).
import express, { type Express } from 'express';

/** Router options; an Express Router keeps its own, so every router of this service is created with these. */
export const STRICT_ROUTING = { caseSensitive: true, strict: true } as const;

/** An Express app with STRICT_ROUTING, set before the first route: Express reads them when it creates its router. */
export function strictApp(): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('strict routing', STRICT_ROUTING.strict);
  app.set('case sensitive routing', STRICT_ROUTING.caseSensitive);
  return app;
}
