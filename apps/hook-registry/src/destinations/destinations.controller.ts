import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiCaller, Invalid, NotFound, Ok } from '../api-docs';
import type { AccountCaller } from '../auth/guards';
import { Allow, CurrentAccount } from '../auth/guards';
import { routeId } from '@posthooks/runtime';
import { DESTINATION_URL_RULE } from '@posthooks/webhooks';
import { CreateDestinationDto, UpdateDestinationDto } from './destinations.dto';
import { DestinationsService, MAX_DESTINATIONS } from './destinations.service';

@ApiTags('destinations')
@Controller('v1/destinations')
@Allow('account')
@ApiCaller('account')
export class DestinationsController {
  constructor(private readonly destinations: DestinationsService) {}

  @Post()
  @ApiOperation({ summary: "Create a Postgres destination (at most 10 per account): its connection, checked before saving, or a database of its own on posthooks' server" })
  @Ok.destination()
  @Invalid('type must be postgres', DESTINATION_URL_RULE, 'could not connect', 'authentication failed', 'cannot create a schema', `an account has at most ${MAX_DESTINATIONS} destinations`)
  create(@CurrentAccount() caller: AccountCaller, @Body() dto: CreateDestinationDto) {
    return this.destinations.create(caller, dto);
  }

  @Get()
  @ApiOperation({ summary: "List the account's destinations" })
  @Ok.destinations()
  list(@CurrentAccount() caller: AccountCaller) {
    return this.destinations.list(caller);
  }

  @Put(':id')
  @ApiOperation({ summary: "Rename a destination or change its connection (checked again; null: posthooks' own server)" })
  @Ok.destination()
  @Invalid(DESTINATION_URL_RULE, 'could not connect', 'authentication failed', 'cannot create a schema')
  @NotFound()
  update(@CurrentAccount() caller: AccountCaller, @Param('id') id: string, @Body() dto: UpdateDestinationDto) {
    return this.destinations.update(caller, routeId(id), dto);
  }

  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Delete a destination and its hooks' })
  @Ok.destinationDeleted()
  @NotFound()
  delete(@CurrentAccount() caller: AccountCaller, @Param('id') id: string) {
    return this.destinations.delete(caller, routeId(id));
  }
}
