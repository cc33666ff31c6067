import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Put } from '@nestjs/common';
import type { AccountCaller } from '../auth/guards';
import { Allow, CurrentAccount } from '../auth/guards';
import { routeId } from '../auth/route-id';
import { parseCreateHookBody, parseEnableBody } from './hook-bodies';
import { HooksService } from './hooks.service';

/** The Stitch Connect hooks API, path for path and body for body (SPEC §3). */
@Controller('notifications/public/v1/api/hooks')
@Allow('account')
export class StitchHooksController {
  constructor(private readonly hooks: HooksService) {}

  @Post()
  @HttpCode(200)
  create(@CurrentAccount() caller: AccountCaller, @Body() body: unknown) {
    return this.hooks.create(caller, parseCreateHookBody(body));
  }

  @Get()
  list(@CurrentAccount() caller: AccountCaller) {
    return this.hooks.list(caller);
  }

  @Put(':id')
  update(@CurrentAccount() caller: AccountCaller, @Param('id') id: string, @Body() body: unknown) {
    const hookId = routeId(id);
    return this.hooks.setEnabled(caller, hookId, parseEnableBody(body));
  }

  /** Stitch answers a delete with the JSON `null`. */
  @Delete(':id')
  @HttpCode(200)
  @Header('Content-Type', 'application/json; charset=utf-8')
  async delete(@CurrentAccount() caller: AccountCaller, @Param('id') id: string): Promise<string> {
    await this.hooks.delete(caller, routeId(id));
    return 'null';
  }
}

/** Our extensions to the hooks API. */
@Controller('v1/hooks')
@Allow('account')
export class HookExtensionsController {
  constructor(private readonly hooks: HooksService) {}

  @Post(':id/rotate-secret')
  @HttpCode(200)
  rotateSecret(@CurrentAccount() caller: AccountCaller, @Param('id') id: string) {
    return this.hooks.rotateSecret(caller, routeId(id));
  }
}
