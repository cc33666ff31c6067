import { Body, Controller, Delete, Get, Param, Post, UseGuards } from '@nestjs/common';
import { AccountKeyGuard, CallerAccountId } from '@posthooks/registry-view';
import { routeId } from '@posthooks/runtime';
import { CreateIntegrationDto } from './integrations.dto';
import { IntegrationsService } from './integrations.service';

/** Incoming-webhook integrations (SPEC §7), for account keys. */
@Controller('v1/integrations')
@UseGuards(AccountKeyGuard)
export class IntegrationsController {
  constructor(private readonly integrations: IntegrationsService) {}

  @Post()
  create(@CallerAccountId() accountId: number, @Body() dto: CreateIntegrationDto) {
    return this.integrations.create(accountId, dto);
  }

  @Get()
  list(@CallerAccountId() accountId: number) {
    return this.integrations.list(accountId);
  }

  @Post(':id/urls')
  addUrl(@CallerAccountId() accountId: number, @Param('id') id: string) {
    return this.integrations.addUrl(accountId, routeId(id));
  }

  @Delete(':id/urls/:urlId')
  revokeUrl(@CallerAccountId() accountId: number, @Param('id') id: string, @Param('urlId') urlId: string) {
    return this.integrations.revokeUrl(accountId, routeId(id), routeId(urlId));
  }
}

