import { ApiBearerAuth, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { Body, Controller, Get, HttpCode, HttpException, Param, Post, Query, UseGuards } from '@nestjs/common';
import { simpleError } from '@posthooks/contracts';
import { AccountKeyGuard, CallerAccountId } from '@posthooks/registry-view';
import { notFound, routeId } from '@posthooks/runtime';
import { DeliveryLogService } from './delivery-log.service';
import { ListAttemptsQuery, ListDeliveriesQuery, RecoverDto } from './delivery-log.dto';

/** The delivery log and replay (SPEC §5), for account keys, each account seeing only its own. */
@Controller('v1')
@UseGuards(AccountKeyGuard)
export class DeliveryLogController {
  constructor(private readonly log: DeliveryLogService) {}

  @Get('hooks/:id/deliveries')
  @ApiBearerAuth()
  @ApiOperation({
    summary: "A hook's delivery attempts, newest first",
    description:
      'Each attempt: event_id, event_type, webhook_id, attempt, status (succeeded|failed|pending), status_code, error, duration_ms, response_body (first 4 KiB), attempted_at, next_attempt_at, and (ours) integration_name and table_name of the webhook (null for a ping).',
  })
  list(@CallerAccountId() accountId: number, @Param('id') id: string, @Query() query: ListAttemptsQuery) {
    return this.log.list(accountId, routeId(id), query);
  }

  @Get('deliveries')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'What was never delivered: the account\'s deliveries in one state (default failed) across its hooks, newest first' })
  @ApiResponse({
    status: 200,
    description:
      '`{"data":[{"webhook_id","hook_id","event_id","event_type","status","attempts","last_error","created_at","next_attempt_at"}...],"next_cursor":<string|null>}`; pass next_cursor as `cursor` for the next page, with the same filters.',
  })
  @ApiResponse({ status: 400, description: 'A bad query parameter: `{"error":"status must be failed, pending or cancelled"}` (or since, hook_id, limit, cursor).' })
  @ApiResponse({ status: 401, description: 'No or wrong account key: `{"error":"Unauthorized"}`.' })
  @ApiResponse({ status: 404, description: 'hook_id is not one of the account\'s hooks: `{"error":"NotFound"}`.' })
  @ApiResponse({ status: 429, description: 'Over 20 failed authentications from this address in a minute: `{"error":"too many failed authentications"}`, with Retry-After.' })
  undelivered(@CallerAccountId() accountId: number, @Query() query: ListDeliveriesQuery) {
    return this.log.undelivered(accountId, query);
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

