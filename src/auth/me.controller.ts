import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { CurrentCaller } from '../access/access.js';
import type { Caller } from '../access/caller.js';
import { ApiErrorResponses } from '../common/api-errors.decorator.js';

const ROLES = ['admin', 'user', 'open'] as const;

export class MeDto {
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'alice',
    description: "The user a user key acts as; null for the admin key (it acts for any user, and is no user's) and in open mode.",
  })
  user_id: string | null;

  @ApiProperty({
    enum: ROLES,
    description: '`admin`: the admin key; `user`: a user key; `open`: no ADMIN_API_KEY is set, no key is asked for.',
  })
  role: (typeof ROLES)[number];

  static from(caller: Caller): MeDto {
    return { user_id: caller.kind === 'user' ? caller.userId : null, role: caller.kind };
  }
}

@ApiTags('access')
@Controller('me')
export class MeController {
  @Get()
  @ApiOperation({
    summary: 'Who the presented key acts for',
    description: 'The page fills in its user from it. A revoked or unknown key is 401, as on every route.',
  })
  @ApiOkResponse({ type: MeDto })
  @ApiErrorResponses(401)
  me(@CurrentCaller() caller: Caller): MeDto {
    return MeDto.from(caller);
  }
}
