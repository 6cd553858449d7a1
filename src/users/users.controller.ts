import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses } from '../common/api-errors.decorator.js';
import { UserIdParams } from '../common/params.js';
import { CreateUserDto } from './dto/create-user.dto.js';
import { UserDto } from './dto/user.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a user', description: 'The id is made by the server when absent.' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiConflictResponse({ description: 'USER_EXISTS: the user_id is taken.' })
  @ApiErrorResponses(400)
  async create(@Body() body: CreateUserDto): Promise<UserDto> {
    return UserDto.from(await this.users.create({ userId: body.user_id, username: body.username, email: body.email }));
  }

  @Get(':user_id')
  @ApiOperation({ summary: 'Get a user' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrorResponses(400, 404)
  async get(@Param() params: UserIdParams): Promise<UserDto> {
    return UserDto.from(await this.users.get(params.user_id));
  }
}
