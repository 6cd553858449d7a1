import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';

export const NOT_BLANK = /\S/;

export class SendMessageDto {
  @ApiProperty({ example: 'What is the capital of France?', description: 'Non-blank; at most MAX_MESSAGE_CHARS characters.' })
  @IsString()
  @Matches(NOT_BLANK, { message: '$property must not be empty' })
  message: string;
}
