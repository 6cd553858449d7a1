import { Controller, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { assertActsFor, CurrentCaller } from '../auth/caller.js';
import type { Caller } from '../auth/caller.js';
import { ApiErrorResponses } from '../common/api-errors.decorator.js';
import { UserNotFound, ValidationFailed } from '../common/errors.js';
import { UserIdParams } from '../common/params.js';
import { MessagesService } from '../messages/messages.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { UsersService } from '../users/users.service.js';
import { UsageQuery, UsageReportDto, usageBound } from './dto/usage.dto.js';

/** Routes over everything a user has: they span users, sessions and messages. */
@ApiTags('users')
@Controller('users')
export class UserDataController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly messages: MessagesService,
  ) {}

  @Delete(':user_id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user with every session and message of theirs' })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiErrorResponses(400, 401, 404)
  async remove(@Param() params: UserIdParams, @CurrentCaller() caller: Caller): Promise<void> {
    assertActsFor(caller, params.user_id, () => new UserNotFound(params.user_id));
    await this.sessions.deleteUser(params.user_id);
  }

  @Get(':user_id/usage')
  @ApiOperation({
    summary: 'What a user\'s turns used and cost: in total, by model and by UTC day',
    description: 'Equal to the sum of the stored turns in [from, to).',
  })
  @ApiOkResponse({ type: UsageReportDto })
  @ApiErrorResponses(400, 401, 404)
  async usage(
    @Param() params: UserIdParams,
    @Query() query: UsageQuery,
    @CurrentCaller() caller: Caller,
  ): Promise<UsageReportDto> {
    assertActsFor(caller, params.user_id, () => new UserNotFound(params.user_id));
    const from = usageBound(query.from, false);
    const to = usageBound(query.to, true);
    if ((from && Number.isNaN(from.getTime())) || (to && Number.isNaN(to.getTime()))) {
      throw new ValidationFailed('from/to: not a real date');
    }
    if (from && to && from >= to) throw new ValidationFailed('from: must be before to');
    await this.users.get(params.user_id);
    return UsageReportDto.from(params.user_id, from, to, await this.messages.usageReport(params.user_id, from, to));
  }
}
