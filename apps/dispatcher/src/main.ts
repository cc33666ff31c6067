import { runService } from '@posthooks/runtime';
import { dispatcher } from './service';

void runService(dispatcher);
