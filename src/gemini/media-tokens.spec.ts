import { randomBytes } from 'node:crypto';
import { isoMedia, jpeg, mp3, mp4, mp4Lasting, pdf, png, text, wav, webp } from '../../test/support/file-samples.js';
import { geminiModalityOf, mediaFactsOf, mediaModalityOf, mediaTokens } from './media-tokens.js';

const NONE = { width: null, height: null, pages: null, seconds: null };
const GEMINI_2 = 'gemini-2.5-flash';
const GEMINI_3 = 'gemini-3-pro-preview';

/** A WebP header of the given chunk kind with `payload` at offset 20. */
function webpWith(kind: string, payload: number[]): Buffer {
  const body = Buffer.concat([Buffer.from(kind), Buffer.from([payload.length, 0, 0, 0]), Buffer.from(payload)]);
  return Buffer.concat([Buffer.from('RIFF'), Buffer.from([body.length + 4, 0, 0, 0]), Buffer.from('WEBP'), body]);
}

/** An ISO file whose `meta` carries an `ispe` of width × height (what a HEIC's item properties hold). */
function heicWith(width: number, height: number): Buffer {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const ispe = Buffer.concat([u32(20), Buffer.from('ispe'), u32(0), u32(width), u32(height)]);
  return Buffer.concat([isoMedia('heic', ['mif1', 'heic']), u32(8 + ispe.length), Buffer.from('meta'), ispe]);
}

describe('mediaFactsOf', () => {
  it.each([
    ['a 1×1 PNG', 'image/png', png(), { width: 1, height: 1 }],
    ['a 1000×500 PNG', 'image/png', png(0, 1000, 500), { width: 1000, height: 500 }],
    ['a JPEG with a SOF0 header', 'image/jpeg', jpeg({ width: 1600, height: 900 }), { width: 1600, height: 900 }],
    ['a JPEG without a frame header', 'image/jpeg', jpeg(), { width: null, height: null }],
    ['a lossless WebP (VP8L)', 'image/webp', webp(), { width: 1, height: 1 }],
    // 14 bits each, minus one: 799 = 0x31f, 599 = 0x257 → bits 0x0095f31f.
    ['a VP8L WebP of 800×600', 'image/webp', webpWith('VP8L', [0x2f, 0x1f, 0xc3, 0x95, 0x00]), { width: 800, height: 600 }],
    [
      'a lossy WebP (VP8)',
      'image/webp',
      webpWith('VP8 ', [0, 0, 0, 0x9d, 0x01, 0x2a, 0x20, 0x03, 0x58, 0x02]),
      { width: 800, height: 600 },
    ],
    ['an extended WebP (VP8X)', 'image/webp', webpWith('VP8X', [0, 0, 0, 0, 0x1f, 0x03, 0, 0x57, 0x02, 0]), { width: 800, height: 600 }],
    ['a HEIC with an ispe property', 'image/heic', heicWith(4032, 3024), { width: 4032, height: 3024 }],
  ])('reads the size of %s from its header', (_name, mimeType, bytes, size) => {
    expect(mediaFactsOf(mimeType, bytes)).toEqual({ ...NONE, ...size });
  });

  it.each([
    ['one page', pdf(), 1],
    ['three pages', pdf(3), 3],
    [
      'pages written without whitespace',
      Buffer.from('%PDF-1.4\n<</Type/Pages/Count 2>><</Type/Page>><<\n/Type\n/Page\r\n/Parent 1 0 R>>'),
      2,
    ],
    ['pages kept in compressed object streams (the page tree says 7)', Buffer.from('%PDF-1.5\n<< /Type /Pages /Count 7 >>'), 7],
    [
      'nothing readable (objects and page tree compressed): not known, so the size bound applies',
      Buffer.from('%PDF-1.5\n1 0 obj << /Type /ObjStm /N 40 >> stream\nx\x9c\nendstream\n%%EOF'),
      null,
    ],
    ['a hostile page count', Buffer.from('%PDF-1.5\n<< /Type /Pages /Count 999999999 >>'), 1000],
  ])('counts the pages of a PDF with %s', (_name, bytes, pages) => {
    expect(mediaFactsOf('application/pdf', bytes)).toEqual({ ...NONE, pages });
  });

  it('weighs a PDF whose pages cannot be read by its size (a page per KiB, at most 1,000), never as one page', () => {
    expect(mediaTokens('gemini-2.5-flash', 'document', { pages: null }, 200 * 1024)).toBe(200 * 258);
    expect(mediaTokens('gemini-2.5-flash', 'document', { pages: null }, 50 * 1024 * 1024)).toBe(1000 * 258);
  });

  it('does not believe a duration shorter than the bytes can hold (192 kHz stereo 32-bit audio, 100 Mbit/s video)', () => {
    // 20 MiB of video whose header says 0.01 s: at least 20 MiB at 12.5 MB/s, 1.68 s.
    expect(mediaTokens('gemini-2.5-flash', 'video', { seconds: 0.01 }, 20 * 1024 * 1024)).toBe(
      Math.ceil((20 * 1024 * 1024 * 263) / 12_500_000),
    );
    expect(mediaTokens('gemini-2.5-flash', 'audio', { seconds: 0.01 }, 15_360_000)).toBe(10 * 32);
    // An honest header stands.
    expect(mediaTokens('gemini-2.5-flash', 'audio', { seconds: 60 }, 480_000)).toBe(60 * 32);
  });

  it('reads a WAV’s seconds from its data size and byte rate', () => {
    expect(mediaFactsOf('audio/wav', wav(2500))).toEqual({ ...NONE, seconds: 2.5 });
  });

  it('bounds a WAV’s declared data size by the bytes there are', () => {
    const lying = wav(1000);
    lying.writeUInt32LE(0xffffffff, lying.indexOf('data') + 4);
    expect(mediaFactsOf('audio/wav', lying)).toEqual({ ...NONE, seconds: 1 });
  });

  it('reads an MP4’s seconds from mvhd', () => {
    expect(mediaFactsOf('video/mp4', mp4Lasting(12.5))).toEqual({ ...NONE, seconds: 12.5 });
  });

  it.each([
    ['an MP4 without moov', 'video/mp4', mp4()],
    ['an MP3', 'audio/mpeg', mp3()],
  ])('says nothing of the duration of %s', (_name, mimeType, bytes) => {
    expect(mediaFactsOf(mimeType, bytes)).toEqual(NONE);
  });

  it('says nothing of text', () => {
    expect(mediaFactsOf('text/plain', text())).toEqual(NONE);
  });

  it('never throws on truncated, lying or random bytes', () => {
    const samples = [png(0, 800, 800), jpeg({ width: 10, height: 10 }), webp(), wav(100), mp4Lasting(3), pdf(2), heicWith(10, 10)];
    const types = ['image/png', 'image/jpeg', 'image/webp', 'audio/wav', 'video/mp4', 'application/pdf', 'image/heic', 'video/quicktime'];
    for (const sample of samples) {
      for (let cut = 0; cut <= sample.length; cut += 3) {
        for (const type of types) expect(() => mediaFactsOf(type, sample.subarray(0, cut))).not.toThrow();
      }
    }
    for (let i = 0; i < 300; i++) {
      const bytes = randomBytes(1 + (i % 64));
      // A plausible header in front of random bytes, and sizes of all ones.
      const headed = Buffer.concat([samples[i % samples.length].subarray(0, 16), bytes, Buffer.alloc(16, 0xff)]);
      for (const type of types) {
        const facts = mediaFactsOf(type, headed);
        for (const value of Object.values(facts)) expect(value === null || (Number.isFinite(value) && value >= 0)).toBe(true);
      }
    }
  });
});

describe('mediaTokens', () => {
  it.each([
    ['a small image on 2.x: one tile', GEMINI_2, { width: 384, height: 384 }, 258],
    ['a 385×10 image on 2.x: one 768 tile', GEMINI_2, { width: 385, height: 10 }, 258],
    ['a 1000×500 image on 2.x: 2×1 tiles', GEMINI_2, { width: 1000, height: 500 }, 516],
    ['a 1600×900 image on 2.x: 3×2 tiles', GEMINI_2, { width: 1600, height: 900 }, 6 * 258],
    ['an image of unknown size on 2.x: 16 tiles', GEMINI_2, {}, 16 * 258],
    ['any image on 3.x: HIGH', GEMINI_3, { width: 10, height: 10 }, 1120],
    ['an image of unknown size on 3.x: HIGH', 'gemini-3.1-flash', {}, 1120],
  ])('weighs %s', (_name, model, facts, tokens) => {
    expect(mediaTokens(model, 'image', facts, 1000)).toBe(tokens);
  });

  it.each([
    [GEMINI_2, 3, 3 * 258],
    [GEMINI_3, 3, 3 * 560],
  ])('weighs a PDF on %s by its pages', (model, pages, tokens) => {
    expect(mediaTokens(model, 'document', { pages }, 10_000)).toBe(tokens);
  });

  it('bounds the pages of a PDF it was told nothing of by its bytes', () => {
    expect(mediaTokens(GEMINI_2, 'document', {}, 5000)).toBe(5 * 258);
  });

  it.each([
    ['audio of 2.5 s', 'audio', { seconds: 2.5 }, 1, 80],
    ['audio of unknown length: 8 kbit/s at least', 'audio', {}, 10_000, 10 * 32],
    ['video of 10 s', 'video', { seconds: 10 }, 1, 2630],
    ['video of unknown length: 100 kbit/s at least', 'video', {}, 125_000, 10 * 263],
    ['a text file: four bytes a token', 'text', {}, 10, 3],
  ] as const)('weighs %s', (_name, modality, facts, bytes, tokens) => {
    expect(mediaTokens(GEMINI_2, modality, facts, bytes)).toBe(tokens);
    expect(mediaTokens(GEMINI_3, modality, facts, bytes)).toBe(tokens);
  });

  it('answers a safe integer for any facts', () => {
    const huge = mediaTokens(GEMINI_2, 'image', { width: 2 ** 40, height: 2 ** 40 }, 1);
    expect(Number.isSafeInteger(huge)).toBe(true);
    expect(mediaTokens(GEMINI_2, 'audio', { seconds: Number.NaN }, -5)).toBe(0);
  });
});

describe('mediaModalityOf', () => {
  it.each([
    ['image/png', 'image'],
    ['IMAGE/JPEG; q=1', 'image'],
    ['application/pdf', 'document'],
    ['audio/wav', 'audio'],
    ['application/ogg', 'audio'],
    ['video/mp4', 'video'],
    ['text/markdown', 'text'],
    ['image/svg+xml', null],
    ['image/gif', null],
    ['application/zip', null],
    ['', null],
  ])('names %s %s', (mimeType, modality) => {
    expect(mediaModalityOf(mimeType)).toBe(modality);
  });
});

describe('geminiModalityOf', () => {
  it.each([
    ['text', 'TEXT'],
    ['image', 'IMAGE'],
    ['audio', 'AUDIO'],
    ['video', 'VIDEO'],
    ['document', 'DOCUMENT'],
  ] as const)('names %s %s', (modality, gemini) => {
    expect(geminiModalityOf(modality)).toBe(gemini);
  });
});
