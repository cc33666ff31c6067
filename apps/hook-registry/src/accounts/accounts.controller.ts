import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiCaller, Invalid, NotFound, Ok } from '../api-docs';
import { Allow, CurrentCaller } from '../auth/guards';
import type { Caller } from '../auth/auth.service';
import { notFound, routeId } from '@posthooks/runtime';
import { ChangePlanDto, CreateAccountDto, IssueKeyDto, NotificationSettingsDto, PLAN_MESSAGE } from './accounts.dto';
import { AccountsService } from './accounts.service';

/** Accounts, plans and API keys (SPEC §2): the operator's admin API. */
@ApiTags('accounts')
@Controller('v1/accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post()
  @Allow('admin')
  @ApiOperation({ summary: 'Create an account, with its first API key' })
  @ApiCaller('admin')
  @Ok.createdAccount()
  @Invalid(PLAN_MESSAGE, 'notification_email must be an email address')
  create(@Body() dto: CreateAccountDto) {
    return this.accounts.create(dto, 'admin');
  }

  @Get(':id')
  @Allow('admin')
  @ApiOperation({ summary: 'Get an account, without its keys' })
  @ApiCaller('admin')
  @Ok.account(200, 'The account.')
  @NotFound('Unknown account.')
  get(@Param('id') id: string) {
    return this.accounts.get(routeId(id));
  }

  @Put(':id/plan')
  @Allow('admin')
  @ApiOperation({ summary: "Change an account's plan", description: 'A plan without post-load hooks disables every hook of the account; an upgrade leaves them disabled.' })
  @ApiCaller('admin')
  @Ok.account(200, 'The account.')
  @Invalid(PLAN_MESSAGE)
  @NotFound('Unknown account.')
  changePlan(@Param('id') id: string, @Body() dto: ChangePlanDto) {
    return this.accounts.changePlan(routeId(id), dto.plan, 'admin');
  }

  @Post(':id/api-keys')
  @Allow('admin')
  @ApiOperation({ summary: 'Issue another API key (one per team member)' })
  @ApiCaller('admin')
  @Ok.issuedKey()
  @Invalid('label should not be empty')
  @NotFound('Unknown account.')
  issueKey(@Param('id') id: string, @Body() dto: IssueKeyDto) {
    return this.accounts.issueKey(routeId(id), dto.label, 'admin');
  }

  @Delete(':id/api-keys/:keyId')
  @Allow('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an API key' })
  @ApiCaller('admin')
  @Ok.revokedKey()
  @NotFound("Unknown account, or a key that is not the account's.")
  revokeKey(@Param('id') id: string, @Param('keyId') keyId: string) {
    return this.accounts.revokeKey(routeId(id), routeId(keyId), 'admin');
  }

  /** The admin, or the account's own key: another account's key gets 404. */
  @Put(':id/notifications')
  @Allow('admin-or-account')
  @ApiOperation({ summary: 'Turn undeliverable-hook emails on or off', description: "The admin token, or the account's own API key." })
  @ApiCaller('admin-or-account')
  @Ok.notifications()
  @Invalid('undeliverable_email must be a boolean value')
  @NotFound("Unknown account, or another account's key.")
  setNotifications(@Param('id') id: string, @Body() dto: NotificationSettingsDto, @CurrentCaller() caller: Caller) {
    const accountId = routeId(id);
    if (caller.kind === 'account' && caller.accountId !== accountId) throw notFound();
    return this.accounts.setUndeliverableEmail(accountId, dto.undeliverable_email, caller.label);
  }
}
