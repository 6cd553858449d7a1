import { parseEnvironment } from '../config/environment.js';
import { ZERO_USAGE } from '../core/token-usage.js';
import { ModelCatalog } from '../models/model-catalog.js';
import { Metrics } from './metrics.js';

function metricsOf(env: Record<string, string> = {}) {
  const config = parseEnvironment({ DATABASE_URL: 'sqlite::memory:', ...env });
  return new Metrics(config, new ModelCatalog(config), { pool: () => null });
}

async function samples(metrics: Metrics, name: string) {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((family) => family.name === name);
  return (metric?.values ?? []).map(({ labels, value }) => ({ labels, value }));
}

describe(Metrics.name, () => {
  it('names models only from the model table: a versioned id by its entry, anything else `other`', async () => {
    const metrics = metricsOf();
    const spend = { usage: ZERO_USAGE, costNanoUsd: 10, costStatus: 'priced' as const };
    metrics.spendRecorded({ ...spend, model: 'gemini-3.5-flash-lite-001' });
    metrics.spendRecorded({ ...spend, model: 'gemini-3.5-flash-lite-999' });
    metrics.spendRecorded({ ...spend, model: 'gemini-hostile\nname' });
    metrics.spendRecorded({ ...spend, model: `gemini-${'x'.repeat(200)}` });

    expect(await samples(metrics, 'gemini_chat_paid_calls_total')).toEqual([
      { labels: { model: 'gemini-3.5-flash-lite', cost_status: 'priced' }, value: 2 },
      { labels: { model: 'other', cost_status: 'priced' }, value: 2 },
    ]);
  });

  it('takes finish reasons from the SDK, codes from the error table and statuses from HTTP; anything else is `other`', async () => {
    const metrics = metricsOf();
    metrics.turnEnded('gemini-3.5-flash-lite', 'answered', 'A_NEW_REASON', false, 0.1);
    metrics.turnEnded(null, 'not a code {}', null, true, 0.1);
    metrics.upstreamAttempt('generateContent', 0.1, { status: 999, code: 'UPSTREAM_ERROR' });
    metrics.answered('BREW', '/x', 418, 'lower-case');

    expect(await samples(metrics, 'gemini_chat_turns_total')).toEqual([
      { labels: { model: 'gemini-3.5-flash-lite', outcome: 'answered', finish_reason: 'other', streamed: 'false' }, value: 1 },
      { labels: { model: 'none', outcome: 'other', finish_reason: 'none', streamed: 'true' }, value: 1 },
    ]);
    expect(await samples(metrics, 'gemini_chat_upstream_errors_total')).toEqual([
      { labels: { method: 'generateContent', status: 'none', code: 'UPSTREAM_ERROR' }, value: 1 },
    ]);
    expect(await samples(metrics, 'gemini_chat_refusals_total')).toEqual([{ labels: { code: 'other', status: '418' }, value: 1 }]);
    expect(await samples(metrics, 'gemini_chat_http_requests_total')).toEqual([
      { labels: { method: 'other', route: '/x', status: '418' }, value: 1 },
    ]);
  });

  it('splits prompt and cached tokens into text and audio, and leaves the total out (it is their sum)', async () => {
    const metrics = metricsOf();
    metrics.spendRecorded({
      model: 'gemini-3.5-flash-lite',
      usage: {
        ...ZERO_USAGE,
        promptTokens: 100,
        audioPromptTokens: 30,
        cachedTokens: 40,
        audioCachedTokens: 10,
        outputTokens: 7,
        totalTokens: 107,
      },
      costNanoUsd: 1,
      costStatus: 'priced',
    });
    const tokens = Object.fromEntries(
      (await samples(metrics, 'gemini_chat_tokens_total')).map(({ labels, value }) => [`${labels.class}/${labels.modality}`, value]),
    );
    expect(tokens).toEqual({ 'prompt/text': 70, 'prompt/audio': 30, 'cached/text': 30, 'cached/audio': 10, 'output/text': 7 });
  });

  it('splits prompt and cached tokens into every modality, as the usage JSON does', async () => {
    const metrics = metricsOf();
    metrics.spendRecorded({
      model: 'gemini-3.5-flash-lite',
      usage: {
        ...ZERO_USAGE,
        promptTokens: 1_000,
        imagePromptTokens: 400,
        videoPromptTokens: 200,
        documentPromptTokens: 150,
        audioPromptTokens: 50,
        cachedTokens: 300,
        imageCachedTokens: 100,
        documentCachedTokens: 200,
      },
      costNanoUsd: 1,
      costStatus: 'priced',
    });
    const tokens = Object.fromEntries(
      (await samples(metrics, 'gemini_chat_tokens_total')).map(({ labels, value }) => [`${labels.class}/${labels.modality}`, value]),
    );
    expect(tokens).toEqual({
      'prompt/text': 200,
      'prompt/image': 400,
      'prompt/video': 200,
      'prompt/document': 150,
      'prompt/audio': 50,
      'cached/image': 100,
      'cached/document': 200,
    });
  });

  it('never counts more prompt or cached tokens than the ledger holds, when the audio share Gemini reports is larger', async () => {
    const metrics = metricsOf();
    metrics.spendRecorded({
      model: 'gemini-3.5-flash-lite',
      usage: { ...ZERO_USAGE, promptTokens: 10, audioPromptTokens: 25, cachedTokens: 5, audioCachedTokens: 9 },
      costNanoUsd: 1,
      costStatus: 'priced',
    });
    const tokens = Object.fromEntries(
      (await samples(metrics, 'gemini_chat_tokens_total')).map(({ labels, value }) => [`${labels.class}/${labels.modality}`, value]),
    );
    expect(tokens).toEqual({ 'prompt/audio': 10, 'cached/audio': 5 });
  });

  it('counts an answer its client left before it was sent as aborted, and not as a refusal', async () => {
    const metrics = metricsOf();
    metrics.answered('POST', '/files', 'aborted', null);
    metrics.answered('POST', '/files', 'aborted', 'PAYLOAD_TOO_LARGE');
    expect(await samples(metrics, 'gemini_chat_http_requests_total')).toEqual([
      { labels: { method: 'POST', route: '/files', status: 'aborted' }, value: 2 },
    ]);
    expect(await samples(metrics, 'gemini_chat_refusals_total')).toEqual([]);
  });

  it('counts an open stream once, however often its end is reported', async () => {
    const metrics = metricsOf();
    const close = metrics.streamOpened();
    metrics.streamOpened()();
    close();
    close();
    expect(await samples(metrics, 'gemini_chat_streams_open')).toEqual([{ labels: {}, value: 0 }]);
  });

  it("counts reads of a file's bytes and the bytes read, by purpose; a read that found none adds no bytes", async () => {
    const metrics = metricsOf();
    metrics.fileRead('inline', 1024);
    metrics.fileRead('inline', 2048);
    metrics.fileRead('files_api', 5000);
    metrics.fileRead('download', null);
    expect(await samples(metrics, 'gemini_chat_file_reads_total')).toEqual([
      { labels: { purpose: 'inline' }, value: 2 },
      { labels: { purpose: 'files_api' }, value: 1 },
      { labels: { purpose: 'download' }, value: 1 },
    ]);
    expect(await samples(metrics, 'gemini_chat_file_read_bytes_total')).toEqual([
      { labels: { purpose: 'inline' }, value: 3072 },
      { labels: { purpose: 'files_api' }, value: 5000 },
    ]);
  });

  it('adds process and event-loop figures only when enabled', async () => {
    expect(await samples(metricsOf(), 'process_resident_memory_bytes')).toEqual([]);
    expect(await samples(metricsOf({ METRICS_ENABLED: 'true' }), 'process_resident_memory_bytes')).toHaveLength(1);
  });
});
