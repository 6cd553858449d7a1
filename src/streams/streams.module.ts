import { Module } from '@nestjs/common';
import { repositoryProvider } from '../database/repository-provider.js';
import { TurnStreamsRepository } from './turn-streams.repository.js';
import { TurnStreams } from './turn-streams.js';

/** Streamed turns kept in the database: resumed, re-attached and cancelled from any instance. */
@Module({
  providers: [repositoryProvider(TurnStreamsRepository), TurnStreams],
  exports: [TurnStreams],
})
export class StreamsModule {}
