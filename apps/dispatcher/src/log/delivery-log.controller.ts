import { Body, Controller, Get, HttpCode, HttpException, Param, Post, Query, UseGuards } from '@nestjs/common';
import { simpleError } from '@posthooks/contracts';
import { AccountKeyGuard, CallerAccountId } from '@posthooks/registry-view';
import { notFound, routeId } from '@posthooks/runtime';
import { DeliveryLogService } from './delivery-log.service';
import { ListAttemptsQuery, RecoverDto } from './delivery-log.dto';

/** The delivery log and replay (SPEC §5), for account keys, each account seeing only its own. */
@Controller('v1')
@UseGuards(AccountKeyGuard)
export class DeliveryLogController {
  constructor(private readonly log: DeliveryLogService) {}

  @Get('hooks/:id/deliveries')
  list(@CallerAccountId() accountId: number, @Param('id') id: string, @Query() query: ListAttemptsQuery) {
    return this.log.list(accountId, routeId(id), query);
  }

  @Post('deliveries/:webhookId/redeliver')
  @HttpCode(202)
  redeliver(@CallerAccountId() accountId: number, @Param('webhookId') webhookId: string) {
    if (!/^msg_[0-9a-f]{32}$/.test(webhookId)) throw notFound();
    return this.log.redeliver(accountId, webhookId);
  }

  @Post('hooks/:id/recover')
  @HttpCode(202)
  recover(@CallerAccountId() accountId: number, @Param('id') id: string, @Body() dto: RecoverDto) {
    const since = new Date(dto.since);
    if (since.getTime() > Date.now()) throw new HttpException(simpleError('since must not be in the future'), 400);
    return this.log.recover(accountId, routeId(id), since);
  }
}

