import { runService } from '@posthooks/runtime';
import { emailNotifier } from './service';

void runService(emailNotifier);
