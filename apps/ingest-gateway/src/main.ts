import { runService } from '@posthooks/runtime';
import { ingestGateway } from './service';

void runService(ingestGateway);
