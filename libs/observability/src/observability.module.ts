import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { HttpMetricsMiddleware, initMetrics, MetricsController } from './metrics';
import { NatsHealthIndicator } from './nats.health';

/** `/health/live`, `/health/ready` (NATS + Postgres) and `/metrics` for a service. */
@Module({})
export class ObservabilityModule implements NestModule {
  static forRoot(service: string): DynamicModule {
    initMetrics(service);
    return {
      module: ObservabilityModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController, MetricsController],
      providers: [NatsHealthIndicator],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*path');
  }
}
