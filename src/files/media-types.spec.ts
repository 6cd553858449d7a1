import { isoMedia, jpeg, mp3, mp4, pdf, png, text, wav, webp } from '../../test/support/file-samples.js';
import { declaredFormat, disagreement, sniff } from './media-types.js';
import type { Format } from './media-types.js';

const bytes = (...values: (number | string)[]) =>
  Buffer.concat(values.map((value) => (typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from([value]))));
const riff = (form: string) => bytes('RIFF', 4, 0, 0, 0, form, 'data');
const id3 = (after: Buffer) => Buffer.concat([bytes('ID3', 4, 0, 0, 0, 0, 0, 2), Buffer.alloc(2), after]);

describe('the media types of files', () => {
  describe('sniff: what the bytes are', () => {
    it.each<[string, Buffer, Format]>([
      ['a PNG', png(), 'png'],
      ['a JPEG', jpeg(), 'jpeg'],
      ['a WebP', webp(), 'webp'],
      ['a HEIC (major brand heic)', isoMedia('heic', ['mif1', 'heic']), 'heic'],
      ['a HEIC that says mif1 first', isoMedia('mif1', ['mif1', 'heic']), 'heic'],
      ['a HEIF (mif1)', isoMedia('mif1', ['mif1']), 'heif'],
      ['a PDF', pdf(), 'pdf'],
      ['a PDF after a few bytes of junk', Buffer.concat([bytes('junk\n'), pdf()]), 'pdf'],
      ['a WAV', wav(), 'wav'],
      ['an MP3 frame', mp3(), 'mp3'],
      ['an MP3 behind an ID3 tag', id3(mp3()), 'mp3'],
      ['an AIFF', bytes('FORM', 0, 0, 0, 4, 'AIFF'), 'aiff'],
      ['an AIFF-C', bytes('FORM', 0, 0, 0, 4, 'AIFC'), 'aiff'],
      ['an AAC ADTS frame', bytes(0xff, 0xf1, 0x50, 0x80), 'aac'],
      ['an AAC behind an ID3 tag', id3(bytes(0xff, 0xf1, 0x50, 0x80)), 'aac'],
      ['an Ogg', bytes('OggS', 0, 2), 'ogg'],
      ['a FLAC', bytes('fLaC', 0, 0, 0, 34), 'flac'],
      ['an MP4', mp4(), 'mp4'],
      ['an MPEG program stream', bytes(0, 0, 1, 0xba, 0x44), 'mpeg'],
      ['an MPEG video sequence', bytes(0, 0, 1, 0xb3, 0x14), 'mpeg'],
      ['a QuickTime movie', isoMedia('qt  ', ['qt  ']), 'mov'],
      ['a QuickTime movie from before ftyp', bytes(0, 0, 0, 8, 'moov'), 'mov'],
      ['an AVI', riff('AVI '), 'avi'],
      ['an FLV', bytes('FLV', 1, 5), 'flv'],
      ['a WebM', bytes(0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x84, 'webm'), 'webm'],
      ['a WMV (ASF)', bytes(0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11, 0xa6, 0xd9, 0x00, 0xaa, 0x00, 0x62, 0xce, 0x6c), 'wmv'],
      ['a 3GPP', isoMedia('3gp4', ['3gp4']), '3gpp'],
      ['UTF-8 text', text(), 'text'],
      ['UTF-8 text with a BOM', Buffer.concat([bytes(0xef, 0xbb, 0xbf), text()]), 'text'],
    ])('%s', (_name, sample, format) => {
      expect(sniff(sample)).toEqual({ format });
    });

    it.each([
      ['a GIF', bytes('GIF89a', 1, 0), 'image/gif'],
      ['a Matroska video', bytes(0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x88, 'matroska'), 'video/x-matroska'],
      ['an AVIF', isoMedia('avif', ['avif']), 'image/avif'],
      ['a ZIP', bytes('PK', 3, 4, 0), 'application/zip'],
      ['an HTML page', text('<!DOCTYPE html><html><script>alert(1)</script></html>'), 'text/html'],
      ['an HTML page without a doctype, after blank lines', text('\n\n  <html lang="en"><body></body></html>'), 'text/html'],
      ['an SVG', text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'), 'image/svg+xml'],
      ['an SVG with an XML declaration', text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/svg+xml'],
      ['text with a NUL', text('a\0b'), 'binary data (a NUL byte)'],
      ['invalid UTF-8', bytes('caf', 0xe9, ' au lait'), 'bytes that are neither a known type nor valid UTF-8 text'],
      ['a lone surrogate encoded in UTF-8', bytes(0xed, 0xa0, 0x80), 'bytes that are neither a known type nor valid UTF-8 text'],
    ])('names %s as what it is, none of ours', (_name, sample, other) => {
      expect(sniff(sample)).toEqual({ other });
    });

    it('takes no bytes for a frame sync with a reserved version, layer or rate', () => {
      expect(sniff(bytes(0xff, 0xeb, 0x90, 0x64))).not.toEqual({ format: 'mp3' }); // version 01: reserved
      expect(sniff(bytes(0xff, 0xfb, 0xf0, 0x64))).not.toEqual({ format: 'mp3' }); // bitrate 1111: bad
      expect(sniff(bytes(0xff, 0xfb, 0x9c, 0x64))).not.toEqual({ format: 'mp3' }); // sample rate 11: reserved
    });
  });

  describe('declaredFormat: what a Content-Type names', () => {
    it.each<[string, Format]>([
      ['image/png', 'png'],
      ['IMAGE/PNG', 'png'],
      ['image/jpg', 'jpeg'],
      ['audio/mp3', 'mp3'],
      ['audio/x-wav', 'wav'],
      ['video/mov', 'mov'],
      ['video/avi', 'avi'],
      ['video/wmv', 'wmv'],
      ['text/plain; charset=utf-8', 'text'],
      ['text/markdown', 'markdown'],
      ['text/csv;charset=UTF-8', 'csv'],
      ['application/pdf', 'pdf'],
    ])('%s is %s', (contentType, format) => {
      expect(declaredFormat(contentType)).toBe(format);
    });

    it.each([
      undefined,
      '',
      'image/svg+xml',
      'text/html',
      'application/xhtml+xml',
      'application/octet-stream',
      'image/gif',
      'application/json',
    ])('%s is none we take', (contentType) => {
      expect(declaredFormat(contentType)).toBeNull();
    });
  });

  describe('disagreement: declared and found', () => {
    it('is null when the bytes are what was declared', () => {
      expect(disagreement('png', png())).toBeNull();
      expect(disagreement('heif', isoMedia('heic', ['heic']))).toBeNull();
      expect(disagreement('markdown', text('# Title\n'))).toBeNull();
      expect(disagreement('csv', text('a,b\n1,2\n'))).toBeNull();
    });

    it('names what was found otherwise', () => {
      expect(disagreement('png', pdf())).toBe('application/pdf');
      expect(disagreement('mp4', isoMedia('qt  '))).toBe('video/quicktime');
      expect(disagreement('text', png())).toBe('image/png');
      expect(disagreement('jpeg', text('just text'))).toBe('text/plain');
      expect(disagreement('text', text('<svg/>'))).toBe('image/svg+xml');
    });
  });
});
