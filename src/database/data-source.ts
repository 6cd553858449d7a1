// For the TypeORM CLI: `npx typeorm migration:show -d dist/data-source.js`.
import { DataSource } from 'typeorm';
import { loadDotEnv, readSettings } from './config/environment.js';
import { dataSourceOptions } from './database/data-source-options.js';
import { ENTITIES } from './persistence.js';

loadDotEnv();
export default new DataSource(dataSourceOptions(readSettings().database, { entities: ENTITIES }));
