import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HookRegistryEnv } from '@posthooks/config';
import { simpleError } from '@posthooks/contracts';
import type { Request, Response } from 'express';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Where `npm run build` puts the console: dist/console, beside dist/apps (this file runs
 * as dist/apps/hook-registry/src/console/console-files.controller.js).
 */
const BUILT_CONSOLE_DIR = resolve(__dirname, '..', '..', '..', '..', 'console');

/**
 * Only the page's own files, from this origin: scripts, styles, images, connections.
 * Inline styles are allowed because the chart library positions its parts with them.
 */
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/**
 * Serves the console (SPEC §11): the page at /console, its files, the favicon, and `/`
 * redirecting there. Built files only, nothing else at run time; the page is a
 * single-page app whose views are hash routes (#/hooks/7/deliveries), so every path is
 * either a file or the page itself.
 */
@ApiExcludeController()
@Controller()
export class ConsoleFilesController {
  private readonly dir: string;

  constructor(@Inject(HookRegistryEnv) env: HookRegistryEnv) {
    this.dir = env.CONSOLE_DIR ? resolve(env.CONSOLE_DIR) : BUILT_CONSOLE_DIR;
  }

  @Get()
  root(@Res() res: Response): void {
    res.redirect(302, '/console/');
  }

  @Get('favicon.ico')
  favicon(@Res() res: Response): void {
    this.send(res, 'favicon.svg', 'public, max-age=86400');
  }

  @Get('console')
  page(@Req() req: Request, @Res() res: Response): void {
    // Relative asset paths resolve against /console/, not /.
    if (!req.path.endsWith('/')) return res.redirect(301, '/console/');
    this.send(res, 'index.html', 'no-cache');
  }

  @Get('console/*path')
  file(@Req() req: Request, @Res() res: Response): void {
    const path = req.path.slice('/console/'.length);
    if (path === '' || path === 'index.html') return this.send(res, 'index.html', 'no-cache');
    // Vite names built assets by their content hash: they never change under a name.
    const cache = path.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=3600';
    this.send(res, path, cache);
  }

  private send(res: Response, path: string, cacheControl: string): void {
    if (!existsSync(join(this.dir, 'index.html'))) {
      res.status(404).json(simpleError('the console is not built: run npm run build'));
      return;
    }
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', cacheControl);
    // `root` confines the path to the console's folder (send refuses `..` with 403); dotfiles are not served.
    res.sendFile(path, { root: this.dir, dotfiles: 'deny', etag: false, lastModified: false, cacheControl: false }, (err?: Error & { status?: number }) => {
      if (!err || res.headersSent) return;
      res.status(err.status === 403 ? 403 : 404).json(simpleError(err.status === 403 ? 'Forbidden' : 'NotFound'));
    });
  }
}
