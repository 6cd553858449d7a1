import request from 'supertest';
import type { TestApp } from './test-app.js';

/** One sample line of the text exposition format: `name{label="value",…} value [timestamp]`. */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample of a scrape; a line that is neither a comment nor a sample fails the test. */
export function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = SAMPLE.exec(line);
      if (!match) throw new Error(`not a sample line of the Prometheus text format: ${line}`);
      const [, name, labelText = '', value] = match;
      const labels: Record<string, string> = {};
      LABEL.lastIndex = 0;
      let consumed = 0;
      for (let label = LABEL.exec(labelText); label; label = LABEL.exec(labelText)) {
        labels[label[1]] = label[2].replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));
        consumed = LABEL.lastIndex;
      }
      if (consumed !== labelText.length) throw new Error(`labels that do not parse: ${line}`);
      return { name, labels, value: Number(value) };
    });
}

/** One scrape of GET /metrics. */
export interface Scrape {
  /** The samples of a series name whose labels include `labels`, summed (for a histogram, ask for `…_count`). */
  sum(name: string, labels?: Record<string, string>): number;
  /** Each sample of a series name: its labels and value. */
  samples(name: string): { labels: Record<string, string>; value: number }[];
  /**
   * How many samples of the service's own metrics (`gemini_chat_*`) the scrape holds. prom-client's
   * process metrics gain series of their own as the process runs (a GC of a new kind, a new
   * handle type), whatever the service is sent.
   */
  serviceSampleCount(): number;
  /** Every sample. */
  all(): Sample[];
}

export async function scrape(t: TestApp, token?: string): Promise<Scrape> {
  const call = request(t.baseUrl).get('/metrics');
  if (token) call.set('Authorization', `Bearer ${token}`);
  const response = await call.expect(200).expect('Content-Type', /^text\/plain; version=0\.0\.4/);
  const all = parseExposition(response.text);
  const samples = (name: string) => all.filter((sample) => sample.name === name).map(({ labels, value }) => ({ labels, value }));
  return {
    samples,
    sum: (name, labels = {}) =>
      samples(name)
        .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
        .reduce((total, sample) => total + sample.value, 0),
    serviceSampleCount: () => all.filter((sample) => sample.name.startsWith('gemini_chat_')).length,
    all: () => all,
  };
}
