// For the TypeORM CLI: `npx typeorm migration:show -d dist/database/data-source.js` (or :run, :revert).
// It maps no entity: migrations are written by hand, never generated from the entities.
import { DataSource } from 'typeorm';
import { loadDotEnv, readSettings } from '../config/environment.js';
import { dataSourceOptions } from './data-source-options.js';

loadDotEnv();
export default new DataSource(dataSourceOptions(readSettings().database));
