import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ActsFor } from '../access/access.js';
import { ApiErrorResponses } from '../common/api-errors.decorator.js';
import { UserIdParams } from '../common/params.js';
import { UsageQuery, UsageReportDto } from './dto/usage.dto.js';
import { UsageService } from './usage.service.js';

@ApiTags('users')
@Controller('users')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get(':user_id/usage')
  @ActsFor('user_id')
  @ApiOperation({
    summary: "What a user's turns used and cost: in total, by model and by UTC day",
    description:
      "Sums of the spend ledger in [from, to): every turn, those of deleted sessions included. A deleted user's usage stays readable with the admin key.",
  })
  @ApiOkResponse({ type: UsageReportDto })
  @ApiErrorResponses(400, 401, 404)
  async report(@Param() params: UserIdParams, @Query() query: UsageQuery): Promise<UsageReportDto> {
    const { range, report } = await this.usage.report(params.user_id, query.from, query.to);
    return UsageReportDto.from(params.user_id, range, report);
  }
}
