import { Client } from 'pg';

/**
 * A pg client that always has an 'error' listener. pg emits 'error' on a client whose
 * connection dies (Postgres stopped or failed over: FATAL 57P01), and an 'error' event
 * nobody listens to ends the process. The pool listens while a client is idle and
 * TypeORM while it runs a query, but not in between: a client handed out by the pool
 * has neither until TypeORM's promise callback runs, and a FATAL read in that gap killed
 * the dispatcher in the fault run "Postgres stopped for 10 s".
 *
 * Nothing is lost by ignoring the event here: pg has already failed the client's queries
 * with the same error, marked it unusable, and the pool drops it when it is released.
 */
export class ListeningPgClient extends Client {
  constructor(...args: ConstructorParameters<typeof Client>) {
    super(...args);
    this.on('error', () => undefined);
  }
}
