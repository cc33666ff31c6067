import { HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import { HookRegistryEnv, isServicesDatabase } from '@posthooks/config';
import { simpleError } from '@posthooks/contracts';
import { DESTINATION_URL_RULE, DestinationNotAllowedError, DestinationUrl, destinationClientConfig, parseDestinationUrl, resolveDestination } from '@posthooks/webhooks';
import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier } from 'pg';

/** The step of the check that failed, as the user sees it (SPEC §2): never an address. */
export type CheckFailure = 'could not connect' | 'authentication failed' | 'cannot create a schema';

/** How long the check waits for the destination's server before "could not connect". */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * What a failed step says to the user, from the pg error: a refused password or role
 * (28P01, 28000) is "authentication failed"; anything else before the session is up
 * (no route, refused, timed out, no such database, TLS) is "could not connect".
 */
export function connectFailure(err: unknown): CheckFailure {
  const code = (err as { code?: unknown }).code;
  return code === '28P01' || code === '28000' ? 'authentication failed' : 'could not connect';
}

/**
 * Checks a destination's `connection.url` before it is saved (SPEC §2): it parses, it
 * is not one of the services' own databases, its host resolves only to addresses a
 * destination may use, and at the address checked the credentials connect and may
 * create (and drop) a scratch schema. Answers 400 `{"error": ...}` naming the step; the
 * log says more (the pg error's code and message, which never carry the password).
 */
@Injectable()
export class DestinationCheck {
  private readonly log = new Logger('DestinationCheck');

  constructor(@Inject(HookRegistryEnv) private readonly env: HookRegistryEnv) {}

  async check(text: string): Promise<DestinationUrl> {
    const url = parseDestinationUrl(text);
    if (!url) throw new HttpException(simpleError(DESTINATION_URL_RULE), 400);
    if (isServicesDatabase(this.env.DATABASE_URL, url.database)) {
      throw new HttpException(simpleError("connection.url names one of posthooks' own databases: a destination needs a database of its own"), 400);
    }
    let address: string;
    try {
      address = await resolveDestination(url, this.env.ALLOW_PRIVATE_TARGETS);
    } catch (err) {
      if (err instanceof DestinationNotAllowedError) {
        this.log.warn(`destination refused: ${err.detail}`);
        throw new HttpException(simpleError(err.message), 400);
      }
      throw this.failed('could not connect', err);
    }
    // query_timeout: a server that accepts the connection and then goes silent cannot hold the request.
    const client = new Client({ ...destinationClientConfig(url, address), connectionTimeoutMillis: CONNECT_TIMEOUT_MS, query_timeout: CONNECT_TIMEOUT_MS, application_name: 'posthooks-check' });
    // An error after connect (the server going away) is also reported by the query that fails.
    client.on('error', () => undefined);
    try {
      try {
        await client.connect();
      } catch (err) {
        throw this.failed(connectFailure(err), err);
      }
      const scratch = escapeIdentifier(`posthooks_check_${randomBytes(6).toString('hex')}`);
      try {
        await client.query(`CREATE SCHEMA ${scratch}`);
        await client.query(`DROP SCHEMA ${scratch}`);
      } catch (err) {
        throw this.failed('cannot create a schema', err);
      }
    } finally {
      await client.end().catch(() => undefined);
    }
    return url;
  }

  private failed(step: CheckFailure, err: unknown): HttpException {
    const { code, message } = err as { code?: string; message?: string };
    this.log.warn(`destination check failed (${step}): ${code ?? ''} ${message ?? String(err)}`);
    return new HttpException(simpleError(step), 400);
  }
}
