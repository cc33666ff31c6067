import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { NatsHealthIndicator } from './nats.health';

// Operations endpoints, not the service's API: kept out of /docs.
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly nats: NatsHealthIndicator,
  ) {}

  /** The process answers: Kubernetes restarts it only when this fails. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** NATS and Postgres answer; 503 otherwise, so no traffic is routed here meanwhile. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.nats.check('nats'), () => this.db.pingCheck('postgres', { timeout: 1000 })]);
  }
}
