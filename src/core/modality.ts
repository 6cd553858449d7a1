/** What a file is to Gemini, and the keys of usage per modality: `document` is a PDF. */
export const MODALITIES = ['text', 'image', 'audio', 'video', 'document'] as const;

export type Modality = (typeof MODALITIES)[number];
