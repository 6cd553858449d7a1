// The one DOM helper every view shares. Module scripts run after the document is parsed, so a
// view may look its elements up once, at load.

export const $ = (id) => document.getElementById(id);
