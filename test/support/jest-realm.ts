import vm from 'node:vm';

/**
 * In Node the Gemini SDK sends every request through Undici's global dispatcher, which it looks
 * up on `globalThis` (Symbol.for('undici.globalDispatcher.1')). Jest runs each spec in its own
 * vm context whose `globalThis` lacks it, so every SDK call would fail with "Undici
 * globalDispatcher is not available". The service itself never runs in such a context.
 */
const symbol = Symbol.for('undici.globalDispatcher.1');
new Headers(); // makes Node initialise its lazy Undici, dispatcher included
const mainGlobal = vm.runInThisContext('globalThis') as Record<symbol, unknown>;
const jestGlobal = globalThis as unknown as Record<symbol, unknown>;
jestGlobal[symbol] ??= mainGlobal[symbol];
// The SDK silently switches to Vertex AI paths when this is set.
delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
