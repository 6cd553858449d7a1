import { registerAs } from '@nestjs/config';
import type { ConfigType } from '@nestjs/config';
import { readSettings } from './environment.js';

/** The typed configuration slice; tests replace it with `overrideProvider(appConfig.KEY)`. */
export const appConfig = registerAs('app', readSettings);

export type AppConfig = ConfigType<typeof appConfig>;
