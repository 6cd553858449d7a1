import { Body, Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentCaller } from '../access/access.js';
import type { Caller } from '../access/caller.js';
import { ApiErrorResponses, ApiIdempotencyKey, ErrorBodyDto, TURN_ERRORS } from '../common/api-errors.decorator.js';
import { SessionIdParams } from '../common/params.js';
import { IdempotencyKey } from '../idempotency/idempotency-key.js';
import type { IdempotentRequest } from '../idempotency/idempotency-key.js';
import { EstimateDto } from './dto/estimate.dto.js';
import { EstimateMessageDto, fileIdsOf, SendMessageDto } from './dto/send-message.dto.js';
import { ESTIMATE_CACHE_MS } from './estimate-cache.js';
import { EstimateService } from './estimate.service.js';
import { TurnResponseDto } from './dto/turn-response.dto.js';
import { answerTurn } from './turn-http.js';
import { TurnService } from './turn.service.js';

@ApiTags('sessions')
@Controller('sessions')
export class TurnsController {
  constructor(
    private readonly turns: TurnService,
    private readonly estimates: EstimateService,
  ) {}

  @Post(':session_id/messages')
  @ApiOperation({
    summary: 'Send a message and get the reply (JSON, or streamed as Server-Sent Events)',
    description:
      'The stored history of the session, plus its system instruction, is the context sent to Gemini: all of it, or — past the ' +
      'context limit, with truncation "auto" — the most recent whole turns that fit (stored history is never deleted); with ' +
      'truncation "disabled" a prompt over the limit is 422 CONTEXT_TOO_LONG. The model message\'s `context` says what was sent. ' +
      'Both messages are stored only if Gemini answers; on any error nothing is stored.\n\n' +
      'With `Accept: text/event-stream` the answer is a 200 SSE stream: `event: delta` `data: {"text": "…"}` as text ' +
      'arrives, then `event: done` with the same JSON as the 201 body, or `event: error` with an error body. ' +
      'A failure before the first delta answers with its status and a JSON error body instead. If the client goes ' +
      'away the turn still completes and is stored. Server-Timing then comes as an HTTP trailer.\n\n' +
      'Accepts Idempotency-Key; a replay is always the JSON 201 body.',
  })
  @ApiHeader({ name: 'Accept', required: false, description: '`text/event-stream` to stream the reply.' })
  @ApiIdempotencyKey()
  @ApiProduces('application/json', 'text/event-stream')
  @ApiCreatedResponse({ type: TurnResponseDto, headers: { 'Server-Timing': { description: 'upstream;dur=…, total;dur=… (ms)' } } })
  @ApiErrorResponses(...TURN_ERRORS)
  async send(
    @Param() params: SessionIdParams,
    @Body() body: SendMessageDto,
    @CurrentCaller() caller: Caller,
    @IdempotencyKey() idempotency: IdempotentRequest,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    await answerTurn(request, response, 201, TurnResponseDto.from, (onDelta) =>
      this.turns.send(caller, { kind: 'session', sessionId: params.session_id }, body.message ?? '', {
        idempotency,
        onDelta,
        attachments: fileIdsOf(body),
      }),
    );
  }

  @Post(':session_id/estimate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'What the next turn would send and cost, before sending it',
    description:
      'The prompt the message would make (system instruction, the stored turns that fit the context limit, the message), counted ' +
      "with Gemini's countTokens (free) and priced at the session model's input rate; max_cost_usd adds the whole output cap at the " +
      'output rate. Nothing is generated, stored or charged to a budget. With truncation "disabled", a prompt over the limit is 422 CONTEXT_TOO_LONG, as the turn would be.\n\n' +
      'Estimates are counted in a per-caller window of their own, ESTIMATES_PER_MINUTE (not against the turns of RATE_LIMIT_PER_MINUTE). ' +
      `The same message estimated again on a session without a turn or change since is answered for ${ESTIMATE_CACHE_MS / 1000} s without counting again; it still counts against the window.`,
  })
  @ApiOkResponse({ type: EstimateDto })
  @ApiErrorResponses(400, 401, 404, 413, 415, 422, 502, 503, 504)
  @ApiResponse({
    status: 429,
    description: 'RATE_LIMITED: more than ESTIMATES_PER_MINUTE estimates in the last minute. See Retry-After. Nothing is sent to Gemini.',
    type: ErrorBodyDto,
  })
  async estimate(
    @Param() params: SessionIdParams,
    @Body() body: EstimateMessageDto,
    @CurrentCaller() caller: Caller,
  ): Promise<EstimateDto> {
    return EstimateDto.from(await this.estimates.estimate(caller, params.session_id, body.message ?? '', fileIdsOf(body)));
  }
}
