import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { assertActsFor, CurrentCaller } from '../auth/caller.js';
import type { Caller } from '../auth/caller.js';
import { ApiErrorResponses } from '../common/api-errors.decorator.js';
import { Forbidden, UserNotFound } from '../common/errors.js';
import { UserIdParams } from '../common/params.js';
import { CreateUserDto } from './dto/create-user.dto.js';
import { UpdateUserDto } from './dto/update-user.dto.js';
import { UserDto } from './dto/user.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a user', description: 'The id is made by the server when absent. A user key cannot create other users.' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiErrorResponses(400, 401, 403, 404, 409)
  async create(@Body() body: CreateUserDto, @CurrentCaller() caller: Caller): Promise<UserDto> {
    if (caller.kind === 'user') {
      if (body.user_id === undefined) throw new Forbidden('Only the admin key creates users.');
      assertActsFor(caller, body.user_id, () => new UserNotFound(body.user_id!));
    }
    return UserDto.from(await this.users.create({ userId: body.user_id, username: body.username, email: body.email }));
  }

  @Get(':user_id')
  @ApiOperation({ summary: 'Get a user' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrorResponses(400, 401, 404)
  async get(@Param() params: UserIdParams, @CurrentCaller() caller: Caller): Promise<UserDto> {
    assertActsFor(caller, params.user_id, () => new UserNotFound(params.user_id));
    return UserDto.from(await this.users.get(params.user_id));
  }

  @Patch(':user_id')
  @ApiOperation({ summary: 'Set a user\'s daily spend limit (admin key)', description: 'Turns are refused with 429 BUDGET_EXCEEDED once the UTC day\'s spend reaches it.' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrorResponses(400, 401, 403, 404)
  async update(@Param() params: UserIdParams, @Body() body: UpdateUserDto, @CurrentCaller() caller: Caller): Promise<UserDto> {
    assertActsFor(caller, params.user_id, () => new UserNotFound(params.user_id));
    if (caller.kind === 'user') throw new Forbidden('Only the admin key sets spending limits.');
    const nano = body.daily_budget_usd === null ? null : Math.round(body.daily_budget_usd * 1_000_000_000);
    return UserDto.from(await this.users.setDailyBudget(params.user_id, nano));
  }
}
