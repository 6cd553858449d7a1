import { LlmClient } from '../../../src/gemini/llm-client.js';
import type { LlmMode, LlmRequest, LlmResult, UploadedFile } from '../../../src/gemini/llm-client.js';

type Answer = (request: LlmRequest) => Promise<LlmResult>;

/**
 * An LlmClient that answers only what the test scripted, in order. Any other call is refused
 * (its promise rejects) and recorded in `unexpected`, which the spec checks after each test.
 */
export class ScriptedLlm extends LlmClient {
  readonly mode: LlmMode = 'emulator';
  readonly requests: LlmRequest[] = [];
  readonly unexpected: string[] = [];
  private readonly answers: Answer[] = [];
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  /** The next call answers with this result, or by calling this function. */
  answer(result: LlmResult | Answer): this {
    this.answers.push(typeof result === 'function' ? result : async () => result);
    return this;
  }

  /** The next call fails with this error. */
  fail(error: unknown): this {
    this.answers.push(async () => {
      throw error;
    });
    return this;
  }

  /** Resolves once `count` calls have been received. */
  called(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  generate(request: LlmRequest): Promise<LlmResult> {
    return this.next('generate', request);
  }

  /** Counting is not scripted: a spec whose prompts stay under every limit never counts. */
  countTokens(request: LlmRequest): Promise<number> {
    this.unexpected.push(`countTokens(${JSON.stringify(request.contents.at(-1))})`);
    return Promise.reject(new Error('ScriptedLlm: unexpected countTokens call'));
  }

  /** Uploads are not scripted: a spec that sends no large file never uploads. */
  uploadFile(file: { mimeType: string; displayName: string }): Promise<UploadedFile> {
    this.unexpected.push(`uploadFile(${file.displayName}, ${file.mimeType})`);
    return Promise.reject(new Error('ScriptedLlm: unexpected uploadFile call'));
  }

  deleteFile(name: string): Promise<void> {
    this.unexpected.push(`deleteFile(${name})`);
    return Promise.reject(new Error('ScriptedLlm: unexpected deleteFile call'));
  }

  stream(request: LlmRequest, onDelta: (text: string) => void): Promise<LlmResult> {
    return this.next('stream', request).then((result) => {
      onDelta(result.text);
      return result;
    });
  }

  private next(method: string, request: LlmRequest): Promise<LlmResult> {
    const answer = this.answers.shift();
    if (!answer) {
      this.unexpected.push(`${method}(${JSON.stringify(request.contents.at(-1))})`);
      return Promise.reject(new Error(`ScriptedLlm: unexpected ${method} call`));
    }
    this.requests.push(structuredClone(request));
    for (const waiter of this.waiters.filter((w) => this.requests.length >= w.count)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    return answer(request);
  }
}
