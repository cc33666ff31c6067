import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { Allow, CurrentCaller } from '../auth/guards';
import type { Caller } from '../auth/auth.service';
import { notFound, routeId } from '../auth/route-id';
import { ChangePlanDto, CreateAccountDto, IssueKeyDto, NotificationSettingsDto } from './accounts.dto';
import { AccountsService } from './accounts.service';

/** Accounts, plans and API keys (SPEC §2): the operator's admin API. */
@Controller('v1/accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post()
  @Allow('admin')
  create(@Body() dto: CreateAccountDto) {
    return this.accounts.create(dto, 'admin');
  }

  @Get(':id')
  @Allow('admin')
  get(@Param('id') id: string) {
    return this.accounts.get(routeId(id));
  }

  @Put(':id/plan')
  @Allow('admin')
  changePlan(@Param('id') id: string, @Body() dto: ChangePlanDto) {
    return this.accounts.changePlan(routeId(id), dto.plan, 'admin');
  }

  @Post(':id/api-keys')
  @Allow('admin')
  issueKey(@Param('id') id: string, @Body() dto: IssueKeyDto) {
    return this.accounts.issueKey(routeId(id), dto.label, 'admin');
  }

  @Delete(':id/api-keys/:keyId')
  @Allow('admin')
  @HttpCode(200)
  revokeKey(@Param('id') id: string, @Param('keyId') keyId: string) {
    return this.accounts.revokeKey(routeId(id), routeId(keyId), 'admin');
  }

  /** The admin, or the account's own key: another account's key gets 404. */
  @Put(':id/notifications')
  @Allow('admin-or-account')
  setNotifications(@Param('id') id: string, @Body() dto: NotificationSettingsDto, @CurrentCaller() caller: Caller) {
    const accountId = routeId(id);
    if (caller.kind === 'account' && caller.accountId !== accountId) throw notFound();
    return this.accounts.setUndeliverableEmail(accountId, dto.undeliverable_email, caller.label);
  }
}
