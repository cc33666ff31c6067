import { runService } from '@posthooks/runtime';
import { hookRegistry } from './service';

void runService(hookRegistry);
