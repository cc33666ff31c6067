import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { routeId } from '@posthooks/runtime';
import { randomUUID } from 'node:crypto';
// A type only: a decorated signature's union type must not be a value import.
import type { Caller } from './caller.guard';
import { AdminOrAccountGuard, assertMayActFor, CurrentCaller } from './caller.guard';
import { SchedulesService, specOf } from './schedules.service';
import { ScheduleDto, SimulationDto } from './simulation.dto';
import { Simulator } from './simulator';

const UNAUTHORIZED = { status: 401, description: 'The bearer token is neither ADMIN_TOKEN nor an API key: `{"error":"Unauthorized"}`.' };
const INVALID = { status: 400, description: 'The body failed validation: `{"error":"<what is wrong>"}`.' };
const NOT_FOUND = { status: 404, description: 'client_id is not the key\'s account, or (DELETE) an unknown schedule or another account\'s: `{"error":"NotFound"}`.' };

/** Simulated and scheduled loads (SPEC §7), for an account's key or the admin token. */
@ApiTags('simulations')
@ApiBearerAuth()
@ApiResponse(UNAUTHORIZED)
@Controller('v1')
@UseGuards(AdminOrAccountGuard)
export class SimulationsController {
  constructor(
    private readonly simulator: Simulator,
    private readonly schedules: SchedulesService,
  ) {}

  @Post('simulations')
  @HttpCode(202)
  @ApiOperation({ summary: 'Publish one load event per table now' })
  @ApiResponse({ status: 202, description: 'The events are stored in the LOADS stream: `{"event_ids":[...]}`, in the order of `tables`.' })
  @ApiResponse(INVALID)
  @ApiResponse(NOT_FOUND)
  async simulate(@CurrentCaller() caller: Caller, @Body() dto: SimulationDto) {
    assertMayActFor(caller, dto.client_id);
    return { event_ids: await this.simulator.run(specOf(dto), () => `sim-${randomUUID()}`) };
  }

  @Post('schedules')
  @ApiOperation({ summary: 'Repeat a simulation every interval, first one interval from now' })
  @ApiResponse({ status: 201, description: 'The schedule: id, every, next_run_at and the simulation (num_rows defaulted, destination_id null when absent).' })
  @ApiResponse(INVALID)
  @ApiResponse(NOT_FOUND)
  createSchedule(@CurrentCaller() caller: Caller, @Body() dto: ScheduleDto) {
    return this.schedules.create(caller, dto);
  }

  @Get('schedules')
  @ApiOperation({ summary: "The caller's schedules (every schedule for the admin token)" })
  @ApiResponse({ status: 200, description: 'An array of schedules, oldest first.' })
  listSchedules(@CurrentCaller() caller: Caller) {
    return this.schedules.list(caller);
  }

  @Delete('schedules/:id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop a schedule' })
  @ApiResponse({ status: 200, description: 'The deleted schedule. No run starts after this answer.' })
  @ApiResponse(NOT_FOUND)
  deleteSchedule(@CurrentCaller() caller: Caller, @Param('id') id: string) {
    return this.schedules.delete(caller, routeId(id));
  }
}
