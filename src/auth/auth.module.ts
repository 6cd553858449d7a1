import { Module } from '@nestjs/common';
import { repositoryProvider } from '../database/repository-provider.js';
import { UsersModule } from '../users/users.module.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { MeController } from './me.controller.js';
import { ApiKeysService } from './api-keys.service.js';
import { AuthGuard } from './auth.guard.js';

@Module({
  imports: [UsersModule],
  controllers: [ApiKeysController, MeController],
  providers: [repositoryProvider(ApiKeysRepository), ApiKeysService, AuthGuard],
  exports: [ApiKeysService, AuthGuard],
})
export class AuthModule {}
