import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import type { AccountCaller } from '../auth/guards';
import { Allow, CurrentAccount } from '../auth/guards';
import { routeId } from '../auth/route-id';
import { CreateDestinationDto } from './destinations.dto';
import { DestinationsService } from './destinations.service';

@Controller('v1/destinations')
@Allow('account')
export class DestinationsController {
  constructor(private readonly destinations: DestinationsService) {}

  @Post()
  create(@CurrentAccount() caller: AccountCaller, @Body() dto: CreateDestinationDto) {
    return this.destinations.create(caller, dto);
  }

  @Get()
  list(@CurrentAccount() caller: AccountCaller) {
    return this.destinations.list(caller);
  }

  @Delete(':id')
  @HttpCode(200)
  delete(@CurrentAccount() caller: AccountCaller, @Param('id') id: string) {
    return this.destinations.delete(caller, routeId(id));
  }
}
