import { Module } from '@nestjs/common';
import { repositoryProvider } from '../database/repository-provider.js';
import { GeminiModule } from '../gemini/gemini.module.js';
import { UsersController } from './users.controller.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [GeminiModule],
  controllers: [UsersController],
  providers: [repositoryProvider(UsersRepository), UsersService],
  exports: [UsersService],
})
export class UsersModule {}
