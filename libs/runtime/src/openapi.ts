import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Request, Response } from 'express';

export interface OpenApiInfo {
  title: string;
  description: string;
  version: string;
}

/**
 * SPEC §1: a service with an HTTP API serves its OpenAPI description as JSON at
 * `GET /docs`. The route goes straight on the HTTP adapter, not through a controller,
 * so no guard asks for a key and the document does not describe itself.
 */
export function serveOpenApi(app: INestApplication, info: OpenApiInfo): void {
  const config = new DocumentBuilder()
    .setTitle(info.title)
    .setDescription(info.description)
    .setVersion(info.version)
    // Named `bearer` as `@ApiBearerAuth()` expects; not addBearerAuth(), which calls every token a JWT.
    .addSecurity('bearer', { type: 'http', scheme: 'bearer' })
    .build();
  // Built once, at start: a bad annotation fails the start, not the first reader.
  const document = SwaggerModule.createDocument(app, config);
  app.getHttpAdapter().get('/docs', (_req: Request, res: Response) => res.json(document));
}

/**
 * The version in the repository's package.json. Found by walking up from this file, so
 * it is the same from the sources (tests) and from `dist/` (builds), whatever the
 * working directory; npm's variable only exists under `npm run`.
 */
export function projectVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
    if (dirname(dir) === dir) return process.env.npm_package_version ?? '0.0.0';
  }
}
