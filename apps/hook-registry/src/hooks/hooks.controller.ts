import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiCaller, NotFound, Ok, SettingsBody, SettingsErrors, StitchBodies, StitchErrors } from '../api-docs';
import type { AccountCaller } from '../auth/guards';
import { Allow, CurrentAccount } from '../auth/guards';
import { notFound, routeId } from '@posthooks/runtime';
import { invalidSettingsBody, parseCreateHookBody, parseEnableBody } from './hook-bodies';
import { parseSettingsBody } from './hook-settings';
import { HooksService } from './hooks.service';

const MAX_PG_INT = 2_147_483_647;

/** The Stitch Connect hooks API, path for path and body for body (SPEC §3). */
@ApiTags('hooks (Stitch Connect API)')
@Controller('notifications/public/v1/api/hooks')
@Allow('account')
@ApiCaller('account')
export class StitchHooksController {
  constructor(private readonly hooks: HooksService) {}

  // The bodies are `unknown` (checked by hook-bodies.ts), so /docs gets their schemas from @ApiBody.
  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Create a post-load hook', description: 'At most 10 hooks per account; needs a plan with post-load hooks.' })
  @ApiBody(StitchBodies.create)
  @Ok.createdHook()
  @StitchErrors.create()
  @NotFound("destination_id is not one of the account's destinations.")
  create(@CurrentAccount() caller: AccountCaller, @Body() body: unknown) {
    const parsed = parseCreateHookBody(body);
    // An integer past Postgres' integer names no destination (SPEC: not the account's → 404); the lookup itself answered 500.
    if (parsed.destination_id < 1 || parsed.destination_id > MAX_PG_INT) throw notFound();
    return this.hooks.create(caller, parsed);
  }

  @Get()
  @ApiOperation({ summary: "List the account's hooks" })
  @Ok.hooks()
  list(@CurrentAccount() caller: AccountCaller) {
    return this.hooks.list(caller);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Enable or disable a hook', description: 'Disabling always works; enabling needs a plan with post-load hooks.' })
  @ApiBody(StitchBodies.update)
  @Ok.hook()
  @StitchErrors.update()
  @NotFound()
  update(@CurrentAccount() caller: AccountCaller, @Param('id') id: string, @Body() body: unknown) {
    const hookId = routeId(id);
    return this.hooks.setEnabled(caller, hookId, parseEnableBody(body));
  }

  /** Stitch answers a delete with the JSON `null`. */
  @Delete(':id')
  @HttpCode(200)
  @Header('Content-Type', 'application/json; charset=utf-8')
  @ApiOperation({ summary: 'Delete a hook' })
  @Ok.hookDeleted()
  @NotFound()
  async delete(@CurrentAccount() caller: AccountCaller, @Param('id') id: string): Promise<string> {
    await this.hooks.delete(caller, routeId(id));
    return 'null';
  }
}

/** Our extensions to the hooks API. */
@ApiTags('hooks (extensions)')
@Controller('v1/hooks')
@Allow('account')
@ApiCaller('account')
export class HookExtensionsController {
  constructor(private readonly hooks: HooksService) {}

  @Get(':id')
  @ApiOperation({ summary: 'One hook, with its settings', description: 'The Stitch hook object plus `settings` (SPEC §9); custom header values are shown as `***`.' })
  @Ok.hookWithSettings()
  @NotFound()
  get(@CurrentAccount() caller: AccountCaller, @Param('id') id: string) {
    return this.hooks.get(caller, routeId(id));
  }

  // The body is `unknown` (checked by hook-settings.ts, errors in the Stitch InvalidBody shape), so /docs gets its schema from @ApiBody.
  @Put(':id/settings')
  @ApiOperation({
    summary: "Change a hook's settings: event types, filters, custom headers, rate limit",
    description:
      'Any subset of the keys; a key left out keeps its setting. `headers` replaces the whole set; a value of `***` keeps the value stored under that name, ' +
      'so the masked settings of a response can be sent back as they are. Allowed on a disabled hook and on a plan without hooks. ' +
      '`"verify": true` (not stored) then sends one ping to the hook as saved and waits for the receiver (up to HOOK_VERIFY_TIMEOUT_MS, 35 s).',
  })
  @ApiBody(SettingsBody)
  @Ok.hookSettings()
  @SettingsErrors()
  @NotFound()
  @ApiResponse({ status: 409, description: '`"verify": true` on a disabled hook; nothing is saved', schema: { example: { error: 'the hook is disabled: enable it to verify it' } } })
  updateSettings(@CurrentAccount() caller: AccountCaller, @Param('id') id: string, @Body() body: unknown) {
    const hookId = routeId(id);
    const parsed = parseSettingsBody(body);
    if (!parsed.ok) throw invalidSettingsBody(parsed.message);
    return this.hooks.updateSettings(caller, hookId, parsed.value);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: "Rotate a hook's signing secret", description: 'The old secret keeps signing alongside the new one for 24 h.' })
  @Ok.secret()
  @NotFound()
  rotateSecret(@CurrentAccount() caller: AccountCaller, @Param('id') id: string) {
    return this.hooks.rotateSecret(caller, routeId(id));
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a ping event to the hook through the normal delivery path (signed, retried, logged by the dispatcher)' })
  @ApiResponse({ status: 202, description: 'The ping is on its way', schema: { example: { event_id: 'ping-6f1c...' } } })
  @NotFound()
  @ApiResponse({ status: 409, description: 'The hook is disabled', schema: { example: { error: 'the hook is disabled: enable it to test it' } } })
  test(@CurrentAccount() caller: AccountCaller, @Param('id') id: string) {
    return this.hooks.test(caller, routeId(id));
  }
}
