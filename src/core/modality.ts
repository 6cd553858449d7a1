/**
 * What a file is to Gemini (`document` is a PDF), and the keys of usage by modality as Gemini
 * names them in `promptTokensDetails` and `cacheTokensDetails`, in the order of the JSON objects.
 */
export const MODALITIES = ['text', 'image', 'audio', 'video', 'document'] as const;

export type Modality = (typeof MODALITIES)[number];
