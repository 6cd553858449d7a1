// The DOM helpers views share. Module scripts run after the document is parsed, so a
// view may look its elements up once, at load.

export const $ = (id) => document.getElementById(id);

/** A <span> of `className` holding `text` (as text, never markup). */
export function span(className, text) {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}
