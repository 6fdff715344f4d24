// Guidelines Markdown → safe HTML: marked renders it (GitHub-flavoured), DOMPurify then keeps only inert markup
// (no script, no event handler attributes, no javascript: URLs, no style, no forms), so what an owner writes — or
// pastes — cannot run in a reader's session. Nothing else in the app injects HTML; this is its one sanitized path.
import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';

const marked = new Marked({ gfm: true, breaks: false });

const purify = DOMPurify(window);
// Links that leave the app open in another tab, without telling the other site where they came from.
purify.addHook('afterSanitizeAttributes', node => {
  if (node.tagName === 'A' && node.getAttribute('href')) {
    let outside = true;
    try { outside = new URL(node.getAttribute('href')!, location.href).origin !== location.origin; } catch { /* not a URL: treated as outside */ }
    if (outside) { node.setAttribute('target', '_blank'); node.setAttribute('rel', 'noopener noreferrer'); }
  }
  if (node.tagName === 'IMG') { node.setAttribute('loading', 'lazy'); node.setAttribute('decoding', 'async'); }
});

/** Texts rendered lately: a page draws again on every keystroke of its forms, the text rarely changes. */
const rendered = new Map<string, string>();

/** The sanitized HTML of a Markdown text. */
export function markdownToHtml(markdown: string): string {
  const known = rendered.get(markdown);
  if (known !== undefined) return known;
  const html = sanitize(marked.parse(markdown, { async: false }));
  rendered.set(markdown, html);
  if (rendered.size > 8) rendered.delete(rendered.keys().next().value!);
  return html;
}

function sanitize(raw: string): string {
  return purify.sanitize(raw, {
    USE_PROFILES: { html: true },
    // Styles could cover the page (a fake button over the real one); forms and inputs could ask for passwords.
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'option', 'iframe', 'object', 'embed', 'link', 'meta', 'base'],
    FORBID_ATTR: ['style', 'srcset', 'action', 'formaction'],
    ALLOW_DATA_ATTR: false,
  });
}

/** The Markdown as a lit template part (sanitized first: see markdownToHtml). */
export function markdown(text: string) {
  return unsafeHTML(markdownToHtml(text));
}
