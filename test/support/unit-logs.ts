// Setup of the unit project: services built without an app log through Nest's default logger,
// which prints; an error a spec provokes on purpose (a failing after-commit hook) would show as a
// red ERROR line in a green run. Kept in memory instead, as test apps keep theirs (TEST_LOGS=1
// prints them too).
import { Logger } from '@nestjs/common';
import { MemoryLogger } from './logs.js';

Logger.overrideLogger(new MemoryLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));
