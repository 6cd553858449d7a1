import { attachmentDisposition } from './content-disposition.js';

describe(attachmentDisposition.name, () => {
  it.each([
    ['chart.png', 'attachment; filename="chart.png"'],
    ['report (final).pdf', 'attachment; filename="report (final).pdf"'],
    ['café.png', `attachment; filename="caf_.png"; filename*=UTF-8''caf%C3%A9.png`],
    ['日本語.txt', `attachment; filename="___.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt`],
    ['a"b\\c.txt', `attachment; filename="a_b_c.txt"; filename*=UTF-8''a%22b%5Cc.txt`],
    ["it's (1)*.txt", `attachment; filename="it's (1)*.txt"`],
    ['100%.txt', `attachment; filename="100_.txt"; filename*=UTF-8''100%25.txt`],
    ["it's é.txt", `attachment; filename="it's _.txt"; filename*=UTF-8''it%27s%20%C3%A9.txt`],
  ])('%s', (name, header) => {
    expect(attachmentDisposition(name)).toBe(header);
  });
});
