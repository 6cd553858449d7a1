import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses, TURN_ERRORS } from '../common/api-errors.decorator.js';
import { SessionIdParams } from '../common/params.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { SendMessageDto } from './dto/send-message.dto.js';
import { TurnResponseDto } from './dto/turn-response.dto.js';
import { TurnService } from './turn.service.js';

@ApiTags('sessions')
@Controller('sessions')
export class SessionMessagesController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly turns: TurnService,
  ) {}

  @Post(':session_id/messages')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Send a message and get the reply',
    description:
      'The whole stored history of the session, plus its system instruction, is the context sent to Gemini. ' +
      'Both messages are stored only if Gemini answers; on any error nothing is stored.',
  })
  @ApiCreatedResponse({ type: TurnResponseDto })
  @ApiErrorResponses(...TURN_ERRORS)
  async send(@Param() params: SessionIdParams, @Body() body: SendMessageDto): Promise<TurnResponseDto> {
    this.turns.checkMessage(body.message);
    const session = await this.sessions.get(params.session_id);
    return TurnResponseDto.from(await this.turns.inSession(session, body.message));
  }
}
