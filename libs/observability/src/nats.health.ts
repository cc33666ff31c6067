import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { NATS_CONNECTION } from '@posthooks/messaging';
import type { NatsConnection } from 'nats';

/** NATS is up when a round trip to the server completes in time. */
@Injectable()
export class NatsHealthIndicator {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(key: string, timeoutMs = 1000): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    if (this.nc.isClosed()) return indicator.down({ message: 'connection closed' });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const rttMs = await Promise.race([this.nc.rtt(), timeout]);
      return indicator.up({ rtt_ms: rttMs });
    } catch (err) {
      return indicator.down({ message: (err as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }
}
