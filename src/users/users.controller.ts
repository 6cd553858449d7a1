import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ActsFor, AdminOnly } from '../access/access.js';
import { ApiErrorResponses } from '../common/api-errors.decorator.js';
import { UserIdParams } from '../common/params.js';
import { usdToNano } from '../core/money.js';
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
  @ActsFor('user_id', { whenAbsent: 'admin-only' })
  @ApiOperation({
    summary: 'Create a user',
    description:
      'The id is made by the server when absent (admin key). A user key cannot create other users: ' +
      'another user_id is 404, as an id nobody has; its own is 409; none is 403.',
  })
  @ApiCreatedResponse({ type: UserDto })
  @ApiErrorResponses(400, 401, 403, 404, 409)
  async create(@Body() body: CreateUserDto): Promise<UserDto> {
    return UserDto.from(await this.users.create({ userId: body.user_id, username: body.username, email: body.email }));
  }

  @Get(':user_id')
  @ActsFor('user_id')
  @ApiOperation({ summary: 'Get a user', description: 'With their daily budget; a user key reads only its own user (others are 404).' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrorResponses(400, 401, 404)
  async get(@Param() params: UserIdParams): Promise<UserDto> {
    return UserDto.from(await this.users.get(params.user_id));
  }

  @Patch(':user_id')
  @ActsFor('user_id')
  @AdminOnly('sets spending limits', { openMode: true })
  @ApiOperation({
    summary: "Set a user's daily spend limit (admin key)",
    description: "Turns are refused with 429 BUDGET_EXCEEDED once the UTC day's spend reaches it.",
  })
  @ApiOkResponse({ type: UserDto })
  @ApiErrorResponses(400, 401, 403, 404)
  async update(@Param() params: UserIdParams, @Body() body: UpdateUserDto): Promise<UserDto> {
    // The DTO admits only amounts usdToNano converts exactly.
    const budget = body.daily_budget_usd === null ? null : usdToNano(body.daily_budget_usd);
    return UserDto.from(await this.users.setDailyBudget(params.user_id, budget));
  }

  @Delete(':user_id')
  @HttpCode(204)
  @ActsFor('user_id')
  @ApiOperation({
    summary: 'Delete a user with every session and message of theirs',
    description: 'Their files and keys go too. What their turns cost stays in the spend ledger (the admin key can still read their usage).',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiErrorResponses(400, 401, 404)
  async remove(@Param() params: UserIdParams): Promise<void> {
    await this.users.delete(params.user_id);
  }
}
