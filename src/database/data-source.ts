// For the TypeORM CLI, which needs only the migrations: `npx typeorm migration:show -d dist/database/data-source.js`.
import { DataSource } from 'typeorm';
import { loadDotEnv, readSettings } from '../config/environment.js';
import { dataSourceOptions } from './data-source-options.js';

loadDotEnv();
export default new DataSource(dataSourceOptions(readSettings().database));
