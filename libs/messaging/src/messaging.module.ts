import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { connectNats } from './connection';
import { whileJetStreamForms } from './jetstream-wait';
import { NatsAuthOptions } from './nats-auth';
import { NatsNaming } from './naming';
import { provisionStreams, StreamByteLimits } from './provisioning';
import { EventPublisher } from './publisher';

export const NATS_CONNECTION = Symbol('NATS_CONNECTION');

export interface MessagingOptions {
  /** NATS_URL; a comma-separated list for a cluster. */
  url: string;
  /** NATS_NAMESPACE; empty in production. */
  namespace: string;
  /** NATS_STREAM_REPLICAS: 1 on one server, 3 on the cluster. */
  replicas: number;
  /** Client name the server shows for this connection (the service's name). */
  name: string;
  /** STREAM_MAX_BYTES_<STREAM>: every stream but REGISTRY is bounded. */
  streamMaxBytes: StreamByteLimits;
  /** NATS_CREDS or NATS_USER/NATS_PASSWORD, NATS_TLS_CA (natsAuthOptions); empty: anonymous. */
  auth?: NatsAuthOptions;
}

@Injectable()
class ConnectionDrainer implements OnApplicationShutdown {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async onApplicationShutdown(): Promise<void> {
    // After the transport has stopped its consumers: flush pending publishes and acks.
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}

/**
 * Connects to NATS at start (the app does not start without it), provisions every
 * stream of the contract (waiting for a JetStream cluster still forming), and provides
 * the connection and the publisher.
 */
@Global()
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        { provide: NatsNaming, useValue: new NatsNaming(options.namespace) },
        {
          provide: NATS_CONNECTION,
          inject: [NatsNaming],
          useFactory: async (naming: NatsNaming) => {
            const nc = await connectNats(options.url, options.name, options.auth);
            const jsm = await nc.jetstreamManager();
            // Creating R3 streams on a fresh cluster can time out while it places them.
            await whileJetStreamForms('provisioning streams', () => provisionStreams(jsm, naming, options.replicas, options.streamMaxBytes));
            return nc;
          },
        },
        {
          provide: EventPublisher,
          inject: [NATS_CONNECTION, NatsNaming],
          useFactory: (nc: NatsConnection, naming: NatsNaming) => new EventPublisher(nc.jetstream(), naming),
        },
        ConnectionDrainer,
      ],
      exports: [NatsNaming, NATS_CONNECTION, EventPublisher],
    };
  }
}
