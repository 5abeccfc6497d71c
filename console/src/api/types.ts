/** Shorthands over the generated schema: the JSON a route answers, and its query parameters. */
import type { paths } from './schema';

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;

/** The 200 answer of `method` on `path`. */
export type ApiData<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: { 200: infer R };
}
  ? Json<R>
  : never;

/** The query parameters of `method` on `path`. */
export type ApiQuery<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  parameters: { query?: infer Q };
}
  ? NonNullable<Q>
  : never;
