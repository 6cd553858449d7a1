import { Controller, Delete, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { ApiErrorResponses } from '../common/api-errors.decorator.js';
import { UserIdParams } from '../common/params.js';
import { ActsFor, AdminOnly } from '../access/access.js';
import { ApiKeysService } from './api-keys.service.js';

class KeyParams extends UserIdParams {
  @ApiProperty({ example: '3f9a1c0d5e7b2a46' })
  @IsString()
  @Matches(/^[0-9a-f]{16}$/, { message: '$property must be a key id such as 3f9a1c0d5e7b2a46' })
  key_id: string;
}

class IssuedKeyDto {
  @ApiProperty({ example: '3f9a1c0d5e7b2a46' })
  key_id: string;

  @ApiProperty({ example: 'gca_3f9a1c0d5e7b2a46.Jx…', description: 'Shown once: only its hash is stored.' })
  key: string;

  @ApiProperty({ example: '2026-11-22T10:00:00.123Z' })
  created_at: string;
}

@ApiTags('users')
@Controller('users/:user_id/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @HttpCode(201)
  @ActsFor('user_id')
  // Not in open mode: a key minted there would be valid once ADMIN_API_KEY is set.
  @AdminOnly('issues API keys', { openMode: false })
  @ApiOperation({ summary: 'Issue an API key for a user (admin key only)', description: 'The key acts as that user only.' })
  @ApiCreatedResponse({ type: IssuedKeyDto })
  @ApiErrorResponses(400, 401, 403, 404)
  async issue(@Param() params: UserIdParams): Promise<IssuedKeyDto> {
    const issued = await this.keys.issue(params.user_id);
    return { key_id: issued.keyId, key: issued.key, created_at: issued.createdAt };
  }

  @Delete(':key_id')
  @HttpCode(204)
  @ActsFor('user_id')
  @ApiOperation({ summary: 'Revoke an API key', description: "The admin key, or the user's own key. The key is refused at once." })
  @ApiNoContentResponse({ description: 'Revoked.' })
  @ApiErrorResponses(400, 401, 404)
  async revoke(@Param() params: KeyParams): Promise<void> {
    await this.keys.revoke(params.user_id, params.key_id);
  }
}
