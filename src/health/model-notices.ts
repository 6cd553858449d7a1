import { Inject, Injectable } from '@nestjs/common';
import { appConfig } from '../config/app.config.js';
import type { AppConfig } from '../config/app.config.js';
import { ModelCatalog } from '../models/model-catalog.js';
import type { ModelNotice } from '../models/model-catalog.js';
import { SessionsService } from '../sessions/sessions.service.js';

export interface ModelInUseNotice extends ModelNotice {
  /** `GEMINI_MODEL`: new sessions get it; `sessions`: some stored session is set to it. */
  usedBy: 'GEMINI_MODEL' | 'sessions';
}

/** How long the models of stored sessions are taken as read: /health is probed often. */
const SESSION_MODELS_TTL_MS = 60_000;

/**
 * The models in use that Google is retiring or has retired (ModelCatalog.noticeFor), named at
 * start, in /health and on the page. Not refused: a proxy may still serve them.
 */
@Injectable()
export class ModelNotices {
  private sessionModels: { models: string[]; readAt: number } | null = null;

  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly models: ModelCatalog,
    private readonly sessions: SessionsService,
  ) {}

  async current(now = new Date()): Promise<ModelInUseNotice[]> {
    const configured = this.config.gemini.model;
    const notices: ModelInUseNotice[] = [];
    const configuredNotice = this.models.noticeFor(configured, now);
    if (configuredNotice) notices.push({ ...configuredNotice, usedBy: 'GEMINI_MODEL' });
    for (const model of await this.modelsOfSessions(now.getTime())) {
      const notice = this.models.noticeFor(model, now);
      if (notice && !notices.some((known) => known.model === notice.model)) notices.push({ ...notice, usedBy: 'sessions' });
    }
    return notices;
  }

  private async modelsOfSessions(at: number): Promise<string[]> {
    if (!this.sessionModels || at - this.sessionModels.readAt > SESSION_MODELS_TTL_MS) {
      this.sessionModels = { models: await this.sessions.modelsInUse(), readAt: at };
    }
    return this.sessionModels.models;
  }
}
