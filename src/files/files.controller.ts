import { Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ActsFor, CurrentCaller } from '../access/access.js';
import type { Caller } from '../access/caller.js';
import { ApiErrorResponses, ErrorBodyDto } from '../common/api-errors.decorator.js';
import { mapPage } from '../common/paging.js';
import type { Page } from '../common/paging.js';
import { readRawBody } from '../http/request-bodies.js';
import { attachmentDisposition } from './content-disposition.js';
import { FileDto, FileIdParams, FilesPageDto, ListFilesQuery, UploadFileQuery } from './dto/file.dto.js';
import { FilesService } from './files.service.js';
import { ACCEPTED_MIME_TYPES } from './media-types.js';

const DEFAULT_FILES_PAGE = 20;

@ApiTags('files')
@Controller('files')
export class FilesController {
  constructor(private readonly files: FilesService) {}

  @Post()
  @ActsFor('user_id')
  @ApiOperation({
    summary: 'Upload a file: its bytes as the body, its media type as Content-Type',
    description:
      'No multipart, no base64: the body is the file. The declared type must be accepted and agree with the bytes (their magic ' +
      "numbers; text must be valid UTF-8 without NUL); SVG and HTML never are. Without user_id the file is the key's user's (open mode and " +
      'the admin key: the built-in user "anonymous"); an unknown user_id is created. The same bytes uploaded again by the same user ' +
      "answer 200 with the file stored before (not counted twice against the quota). Counts against the caller's RATE_LIMIT_PER_MINUTE.",
  })
  @ApiConsumes(...ACCEPTED_MIME_TYPES)
  @ApiBody({ description: 'The file, at most FILE_MAX_BYTES (default 20 MiB).', schema: { type: 'string', format: 'binary' } })
  @ApiCreatedResponse({ type: FileDto, description: 'Stored.' })
  @ApiOkResponse({ type: FileDto, description: 'The user stored these bytes before: that file, unchanged.' })
  @ApiErrorResponses(400, 401, 404)
  @ApiResponse({
    status: 413,
    type: ErrorBodyDto,
    description:
      'PAYLOAD_TOO_LARGE: the body is over FILE_MAX_BYTES (refused from Content-Length before it is read, or as soon as a chunked body passes it); ' +
      "or STORAGE_QUOTA_EXCEEDED: the file would take the user's files over USER_STORAGE_BYTES. Nothing is stored.",
  })
  @ApiResponse({
    status: 415,
    type: ErrorBodyDto,
    description:
      'UNSUPPORTED_MEDIA_TYPE: the Content-Type is not an accepted type, or the bytes are not what it declares (the message names both).',
  })
  @ApiResponse({
    status: 429,
    type: ErrorBodyDto,
    description:
      'RATE_LIMITED: more than RATE_LIMIT_PER_MINUTE turns, new sessions and uploads in the last minute. See Retry-After. Nothing is stored.',
  })
  async upload(
    @Query() query: UploadFileQuery,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<FileDto> {
    const upload = { userId: query.user_id, name: query.name, contentType: request.headers['content-type'] };
    const { file, created } = await this.files.upload(caller, upload, () => readRawBody(request));
    response.status(created ? HttpStatus.CREATED : HttpStatus.OK);
    return FileDto.from(file);
  }

  @Get()
  @ActsFor('user_id')
  @ApiOperation({
    summary: "A user's files, newest first, a page at a time",
    description: '`after` is the next_cursor of the previous page; `limit` 1–100 (default 20).',
  })
  @ApiOkResponse({ type: FilesPageDto })
  @ApiErrorResponses(400, 401, 404)
  async list(@Query() query: ListFilesQuery): Promise<Page<FileDto>> {
    return mapPage(await this.files.list(query.user_id, query.limit ?? DEFAULT_FILES_PAGE, query.after), FileDto.from);
  }

  @Get(':file_id')
  @ApiOperation({ summary: "A file's description", description: "Another user's file is 404 FILE_NOT_FOUND, as a missing one." })
  @ApiOkResponse({ type: FileDto })
  @ApiErrorResponses(400, 401, 404)
  async get(@Param() params: FileIdParams, @CurrentCaller() caller: Caller): Promise<FileDto> {
    return FileDto.from(await this.files.getFor(caller, params.file_id));
  }

  @Get(':file_id/content')
  @ApiOperation({
    summary: "Download a file's bytes, as uploaded",
    description: 'Always as an attachment, never rendered: nosniff, and a sandbox CSP should a browser show it anyway.',
  })
  @ApiProduces(...ACCEPTED_MIME_TYPES)
  @ApiOkResponse({
    description: 'The bytes, with their media type (text: `; charset=utf-8`).',
    schema: { type: 'string', format: 'binary' },
    headers: {
      'Content-Disposition': {
        description: 'attachment; filename="<ASCII fallback>" and, for other names, filename*=UTF-8\'\'<percent-encoded name> (RFC 6266).',
        schema: { type: 'string' },
      },
      'X-Content-Type-Options': { description: 'nosniff', schema: { type: 'string' } },
      'Content-Security-Policy': { description: 'sandbox', schema: { type: 'string' } },
    },
  })
  @ApiErrorResponses(400, 401, 404)
  async content(@Param() params: FileIdParams, @CurrentCaller() caller: Caller, @Res() response: Response): Promise<void> {
    const { file, bytes } = await this.files.content(caller, params.file_id);
    response.setHeader('Content-Type', file.modality === 'text' ? `${file.mimeType}; charset=utf-8` : file.mimeType);
    response.setHeader('Content-Disposition', attachmentDisposition(file.name));
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Content-Security-Policy', 'sandbox');
    response.status(HttpStatus.OK).end(bytes);
  }

  @Delete(':file_id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a file and its bytes',
    description: 'Here and at Gemini. Messages that used it keep its name and say deleted: true; what their turns cost stays.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiErrorResponses(400, 401, 404)
  async remove(@Param() params: FileIdParams, @CurrentCaller() caller: Caller): Promise<void> {
    await this.files.delete(caller, params.file_id);
  }
}
