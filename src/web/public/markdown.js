// Model replies as Markdown. marked turns the text into HTML; DOMPurify then keeps only the
// elements and attributes Markdown itself makes, and links only to http(s) and mailto. Both are
// their packages' own browser builds, served by the app from node_modules (app.setup.ts): no
// CDN, no build step, and the page's CSP stays script-src 'self'.
//
// The model's own HTML is never markup: it is shown as the text it is (as before Markdown), so a
// reply that quotes HTML reads as written, and what a sanitizer would have to get right is only
// what Markdown produces. Images become links: loading them would let a reply make the browser
// fetch any address it names (and the CSP would refuse most of them anyway).

import { Marked } from './vendor/marked.esm.js';
import DOMPurify from './vendor/purify.es.mjs';

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);

const marked = new Marked({
  gfm: true,
  // A chat reply's single line breaks are meant: kept, as the page showed them before.
  breaks: true,
  renderer: {
    html({ text, block }) {
      const shown = escapeHtml(block ? text.trim() : text);
      return block ? `<p>${shown.replace(/\n/g, '<br>')}</p>` : shown;
    },
    image({ href, title, text }) {
      const titled = title ? ` title="${escapeHtml(title)}"` : '';
      return `<a href="${escapeHtml(href)}"${titled}>${escapeHtml(text || href)}</a>`;
    },
    // A task list's boxes as characters: form controls have no business in a reply.
    checkbox({ checked }) {
      return checked ? '☑ ' : '☐ ';
    },
  },
});

// An instance of its own: the hook below must not reach any other use of DOMPurify.
const purify = DOMPurify(window);
const POLICY = {
  ALLOWED_TAGS: [
    'p',
    'br',
    'hr',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'blockquote',
    'ul',
    'ol',
    'li',
    'pre',
    'code',
    'em',
    'strong',
    'del',
    'a',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
  ],
  // No class or style: a reply must not take on the page's own looks (a fake banner, say).
  ALLOWED_ATTR: ['href', 'title', 'align', 'start'],
  // DOMPurify checks every attribute not listed here against the URL pattern below.
  ADD_URI_SAFE_ATTR: ['align', 'start'],
  ALLOWED_URI_REGEXP: /^(?:https?|mailto):/i,
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  RETURN_DOM_FRAGMENT: true,
};
purify.addHook('afterSanitizeAttributes', (node) => {
  if (node.nodeName !== 'A' || !node.hasAttribute('href')) return;
  // Away from the page (which keeps the conversation), and the page never handed to it.
  node.setAttribute('target', '_blank');
  node.setAttribute('rel', 'noopener noreferrer');
});

/** A reply's Markdown as a fragment of safe elements, ready to be put on the page. */
export function renderMarkdown(text) {
  const fragment = purify.sanitize(marked.parse(String(text ?? '')).trim(), POLICY);
  // A link whose address was refused is left as its text, not as an anchor that goes nowhere.
  for (const anchor of fragment.querySelectorAll('a:not([href])')) anchor.replaceWith(...anchor.childNodes);
  return fragment;
}
