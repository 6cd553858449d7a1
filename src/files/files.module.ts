import { Module } from '@nestjs/common';
import { CoordinationModule } from '../coordination/coordination.module.js';
import { repositoryProvider } from '../database/repository-provider.js';
import { FileBlobsRepository } from './file-blobs.repository.js';
import { FILE_STORE } from './file-store.js';
import { FilesController } from './files.controller.js';
import { FilesRepository } from './files.repository.js';
import { FilesService } from './files.service.js';
import { TurnMedia } from './turn-media.js';
import { GeminiModule } from '../gemini/gemini.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';

@Module({
  imports: [CoordinationModule, GeminiModule, MetricsModule],
  controllers: [FilesController],
  providers: [
    repositoryProvider(FilesRepository),
    // The bytes, read outside a transaction; written through the unit of work (persistence.ts).
    repositoryProvider(FileBlobsRepository, FILE_STORE),
    FilesService,
    TurnMedia,
  ],
  exports: [FilesService, TurnMedia],
})
export class FilesModule {}
