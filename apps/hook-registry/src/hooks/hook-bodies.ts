import { HttpException } from '@nestjs/common';
import { ErrorBodies } from '@posthooks/contracts';

/**
 * The Stitch hooks API checks its bodies itself, because its errors are not the generic
 * ones: any missing, extra or mistyped field is InvalidBody with a fixed message.
 */
export interface CreateHookBody {
  destination_id: number;
  url: string;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasExactly = (o: Record<string, unknown>, keys: string[]) => Object.keys(o).length === keys.length && keys.every((k) => Object.hasOwn(o, k));

export function parseCreateHookBody(body: unknown): CreateHookBody {
  const invalid = new HttpException(ErrorBodies.invalidPostBody, 400);
  if (!isPlainObject(body) || !hasExactly(body, ['type', 'destination_id', 'config'])) throw invalid;
  const { type, destination_id, config } = body;
  if (type !== 'post_load' || typeof destination_id !== 'number' || !Number.isSafeInteger(destination_id)) throw invalid;
  if (!isPlainObject(config) || !hasExactly(config, ['url']) || typeof config.url !== 'string') throw invalid;
  return { destination_id, url: config.url };
}

export function parseEnableBody(body: unknown): boolean {
  if (!isPlainObject(body) || !hasExactly(body, ['enable']) || typeof body.enable !== 'boolean') throw new HttpException(ErrorBodies.invalidPutBody, 400);
  return body.enable;
}

/** A refused settings body (SPEC §9): the InvalidBody shape, with what is wrong. */
export function invalidSettingsBody(message: string): HttpException {
  return new HttpException({ data: { message }, error: 'InvalidBody' }, 400);
}
