import { runService } from '@posthooks/runtime';
import { loadSimulator } from './service';

void runService(loadSimulator);
