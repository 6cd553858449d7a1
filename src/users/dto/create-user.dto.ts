import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { IsUserId } from '../../common/validation-rules.js';

export class CreateUserDto {
  @ApiPropertyOptional({ example: 'alice', description: 'Chosen id; made by the server when absent.' })
  @IsOptional()
  @IsUserId()
  user_id?: string;

  @ApiPropertyOptional({ example: 'Alice', minLength: 1, maxLength: 200 })
  @IsOptional()
  @Length(1, 200)
  @IsString()
  username?: string;

  @ApiPropertyOptional({ example: 'alice@example.com', format: 'email', maxLength: 320 })
  @IsOptional()
  @MaxLength(320)
  @IsEmail()
  email?: string;
}
