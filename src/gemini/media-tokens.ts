// Placeholder until the Gemini media rules land (same exports): every file weighs its worst case.
export type MediaModality = 'image' | 'document' | 'audio' | 'video' | 'text';

export interface MediaFacts {
  width: number | null;
  height: number | null;
  pages: number | null;
  seconds: number | null;
}

export function mediaFactsOf(_mimeType: string, _data: Buffer): MediaFacts {
  return { width: null, height: null, pages: null, seconds: null };
}

export function mediaTokens(_model: string, modality: MediaModality, _facts: MediaFacts, bytes: number): number {
  return modality === 'text' ? Math.ceil(bytes / 4) : 258 * 16;
}
