/**
 * HTTP error bodies of the contract, exactly as SPEC §2, §3 and §7 write them. Every
 * service's exception filter sends one of these; nothing else builds an error body.
 */
export const ErrorBodies = {
  unauthorized: { error: 'Unauthorized' },
  notFound: { error: 'NotFound' },
  invalidPostBody: { data: { message: 'Invalid POST body' }, error: 'InvalidBody' },
  invalidPutBody: { data: { message: "PUT body must only contain boolean 'enable' key" }, error: 'InvalidBody' },
  invalidUri: { error: { message: 'Invalid URI' } },
  notEntitled: { error: { message: 'Client does not have access to hooks.' } },
  hookLimit: { error: { message: 'You have exceeded the limit of 10 hooks.' } },
} as const;

/** The shape of every other error (SPEC §7): `{"error":"<what is wrong>"}`. */
export type SimpleErrorBody = { error: string };
export function simpleError(what: string): SimpleErrorBody {
  return { error: what };
}

export type ErrorBody = (typeof ErrorBodies)[keyof typeof ErrorBodies] | SimpleErrorBody;
