import { HttpException } from '@nestjs/common';
import { ErrorBodies } from '@posthooks/contracts';

/**
 * A numeric id from a path. Anything else (`../x`, `1;DROP`, `1e3`, huge numbers) names
 * nothing, so it is a 404 like any unknown id, never a 400 or a 500.
 */
export function routeId(raw: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(raw)) throw notFound();
  return Number(raw);
}

/** `{"error":"NotFound"}`: for unknown objects and other accounts' objects alike. */
export function notFound(): HttpException {
  return new HttpException(ErrorBodies.notFound, 404);
}
