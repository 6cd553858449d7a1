import { Injectable } from '@nestjs/common';
import type { Message, MessageAttachment } from './message.js';
import { MessagesRepository } from './messages.repository.js';

@Injectable()
export class MessagesService {
  constructor(private readonly messages: MessagesRepository) {}

  /** Up to `limit` of a session's messages after the message id `afterId` (null: from the first), in order. */
  async page(sessionId: string, limit: number, afterId: number | null): Promise<Message[]> {
    return [...(await this.withDeletedFiles(await this.messages.page(sessionId, limit, afterId)))];
  }

  /**
   * The messages, their attachments marked `deleted` where the file is gone (the same array when
   * none carries a file). A stored message never changes (ConversationCache relies on it): whether
   * its files are still there is read when it is shown or sent, in one statement for all of them.
   */
  async withDeletedFiles<T extends { attachments: readonly MessageAttachment[] }>(messages: readonly T[]): Promise<readonly T[]> {
    const fileIds: string[] = [];
    for (const message of messages) for (const attachment of message.attachments) fileIds.push(attachment.fileId);
    if (fileIds.length === 0) return messages;
    const stored = await this.messages.storedFiles(fileIds);
    return messages.map((message) =>
      message.attachments.length === 0
        ? message
        : {
            ...message,
            attachments: message.attachments.map((attachment) => ({ ...attachment, deleted: !stored.has(attachment.fileId) })),
          },
    );
  }
}
