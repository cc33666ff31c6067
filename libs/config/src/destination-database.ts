/**
 * The database of a destination created without a connection (SPEC §2): on the services'
 * Postgres server, named after the services' database, `posthooks_dest_<id>` for the
 * default `posthooks`. Deriving it from DATABASE_URL keeps two installations (or two test
 * runs) on one server apart, as their own databases are.
 */
export function builtInDestinationDatabase(databaseUrl: string, destinationId: number): { name: string; url: string } {
  const url = new URL(databaseUrl);
  const name = `${servicesDatabaseName(databaseUrl)}_dest_${destinationId}`;
  if (Buffer.byteLength(name) > 63) throw new Error(`the built-in destination database name ${name} is longer than Postgres's 63 bytes: shorten DATABASE_URL's database name`);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** The database name of DATABASE_URL (the services' own). */
export function servicesDatabaseName(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, '')) || 'postgres';
}

/** Whether a database name is the services' own or one of their built-in destination databases. */
export function isServicesDatabase(databaseUrl: string, name: string): boolean {
  const own = servicesDatabaseName(databaseUrl);
  return name === own || (name.startsWith(`${own}_dest_`) && /^\d+$/.test(name.slice(own.length + 6)));
}
