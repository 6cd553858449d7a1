import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';

export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, description: 'Items per page.' })
  @IsOptional()
  // Plain decimal digits only: Number() would also take 0x10, 1e2 and +5.
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value))
  @Min(1)
  @Max(100)
  // Checks run from the property up: the type first, so a wrong type is named as such.
  @IsInt({ message: '$property must be a whole number written in decimal digits' })
  limit?: number;

  @ApiPropertyOptional({ description: 'The next_cursor of the previous page.' })
  @IsOptional()
  @IsString()
  after?: string;
}

export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/** Builds a page from `limit + 1` fetched rows: the extra row only says there is more. */
export function pageOf<Row>(rows: Row[], limit: number, cursorOf: (row: Row) => string): Page<Row> {
  const hasMore = rows.length > limit;
  const kept = hasMore ? rows.slice(0, limit) : rows;
  return { data: kept, has_more: hasMore, next_cursor: hasMore ? cursorOf(kept[kept.length - 1]) : null };
}

export function mapPage<T, U>(page: Page<T>, map: (item: T) => U): Page<U> {
  return { ...page, data: page.data.map(map) };
}

export function pageDto<T>(itemType: new () => T, name: string) {
  class PageDto {
    @ApiProperty({ type: [itemType] })
    data: T[];

    @ApiProperty({ example: true })
    has_more: boolean;

    @ApiProperty({ type: String, nullable: true, description: 'Pass as `after` for the next page; null on the last page.' })
    next_cursor: string | null;
  }
  Object.defineProperty(PageDto, 'name', { value: name });
  return PageDto;
}
