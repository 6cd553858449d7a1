import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
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
import { CancelTurnDto, TurnIdParams } from './dto/turn-stream.dto.js';
import { answerTurn, followTurn } from './turn-http.js';
import { TurnService } from './turn.service.js';

/** A resume from the last event of a turn that is over. */
const ENDED = 'Last-Event-ID names the last event of a turn that is over: nothing follows (an EventSource stops reconnecting on 204).';

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
      'With `Accept: text/event-stream` the answer is a 200 SSE stream: a `retry:` hint, `event: turn` `data: {"turn_id", "session_id"}`, ' +
      '`event: delta` `data: {"text": "…"}` as text arrives, then `event: done` with the same JSON as the 201 body, or `event: error` ' +
      'with an error body; every event has `id: <turn_id>:<seq>`. A turn refused before Gemini is called (validation, 404, rate limit, ' +
      'budget, context) answers with its status and a JSON error body instead. If the client goes away the turn still completes and ' +
      'is stored. Server-Timing then comes as an HTTP trailer.\n\n' +
      'The same request with `Last-Event-ID: <turn_id>:<seq>` gets the rest of that turn (replayed, or followed while it runs) and ' +
      'never starts another: no rate limit, no Idempotency-Key, no budget; 410 TURN_NOT_RESUMABLE when the id names no turn of this ' +
      'session whose events are kept (TURN_RETENTION_SECONDS after it ended). See also GET …/turns/{turn_id}/events and POST …/cancel.\n\n' +
      'Accepts Idempotency-Key; a replay is always the JSON 201 body.',
  })
  @ApiHeader({ name: 'Accept', required: false, description: '`text/event-stream` to stream the reply.' })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: '`<turn_id>:<seq>`, the last event of a stream that dropped: resumes that turn instead of starting one.',
  })
  @ApiResponse({
    status: 410,
    description: 'TURN_NOT_RESUMABLE: Last-Event-ID names no turn of this session whose events are still kept.',
    type: ErrorBodyDto,
  })
  @ApiResponse({ status: 204, description: ENDED })
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
    const lastEventId = request.get('last-event-id');
    if (lastEventId !== undefined) {
      // The same request again after a dropped stream: the rest of that turn, never a second one.
      const point = await this.turns.resumePoint(caller, params.session_id, null, lastEventId);
      await followTurn(response, point, (write, stop) => this.turns.follow(point, write, stop));
      return;
    }
    await answerTurn(request, response, 201, TurnResponseDto.from, (stream) =>
      this.turns.send(caller, { kind: 'session', sessionId: params.session_id }, body.message ?? '', {
        idempotency,
        stream,
        attachments: fileIdsOf(body),
      }),
    );
  }

  @Get(':session_id/turns/:turn_id/events')
  @ApiOperation({
    summary: "Re-attach to a streamed turn's events",
    description:
      'Server-Sent Events of the turn, as its own stream sent them (`id: <turn_id>:<seq>` on each): replayed when it is over, ' +
      'followed as they are written while it runs, on whichever instance runs it. Without Last-Event-ID from its first event ' +
      '(`turn`; the deltas make the whole reply), with it from the event after that one. Ends with `done` or `error`. ' +
      `Events are kept TURN_RETENTION_SECONDS after the turn ended; past that, or for a turn of another session, 410 TURN_NOT_RESUMABLE. ` +
      'Nothing is sent to Gemini, nothing counted against the rate limit.',
  })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: '`<turn_id>:<seq>`: the last event received.' })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: "The turn's events (`turn`, `delta`…, `done` | `error`), preceded by a `retry:` hint." })
  @ApiErrorResponses(400, 401, 404)
  @ApiResponse({ status: 410, description: 'TURN_NOT_RESUMABLE: no turn of this session whose events are still kept.', type: ErrorBodyDto })
  @ApiResponse({ status: 204, description: ENDED })
  async events(
    @Param() params: TurnIdParams,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const point = await this.turns.resumePoint(caller, params.session_id, params.turn_id.toLowerCase(), request.get('last-event-id'));
    await followTurn(response, point, (write, stop) => this.turns.follow(point, write, stop));
  }

  @Post(':session_id/turns/:turn_id/cancel')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Cancel a running streamed turn, from any instance',
    description:
      'The upstream call is aborted; what was written so far is stored as the model message with finish_reason "CANCELLED", ' +
      'priced from the last usage Gemini reported (cost_status "estimated", on an estimate, when none came: Gemini bills aborted calls). ' +
      "The turn's stream then ends with `done` and that message. Disconnecting never cancels. " +
      'Only streamed turns can be cancelled: a JSON turn has no turn to name here (404).',
  })
  @ApiResponse({ status: 202, type: CancelTurnDto, description: 'Asked for: the turn ends shortly, stored as CANCELLED.' })
  @ApiErrorResponses(400, 401)
  @ApiResponse({
    status: 404,
    description: 'SESSION_NOT_FOUND, or TURN_NOT_FOUND: no such turn in this session (or its events are no longer kept).',
    type: ErrorBodyDto,
  })
  @ApiResponse({ status: 409, description: 'TURN_FINISHED: the turn is already over.', type: ErrorBodyDto })
  async cancel(@Param() params: TurnIdParams, @CurrentCaller() caller: Caller): Promise<CancelTurnDto> {
    await this.turns.cancel(caller, params.session_id, params.turn_id);
    return { turn_id: params.turn_id.toLowerCase(), status: 'cancelling' };
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
