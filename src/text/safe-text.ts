/**
 * Text from resource creators (names, tag values, ARM error messages that quote them) shown to
 * people: on a terminal, where an ANSI escape can rewrite the screen or the window title, and in
 * Markdown, where brackets, backticks or a pipe can forge links, HTML or table rows.
 */

// CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \), other two-byte ESC sequences, and the
// 8-bit CSI (U+009B).
const ANSI_SEQUENCE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]/g;
// Left after the sequences: C0 and C1 controls, DEL, and invisible format characters
// (bidirectional overrides and isolates, zero-width characters), which make text read differently
// from what it is. Newlines are handled by the callers.
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;
const REPLACEMENT = '\ufffd';

/** Removes ANSI escape sequences and replaces other control and format characters with U+FFFD. Keeps '\n'. */
export function stripControls(text: string): string {
  return text
    .replace(ANSI_SEQUENCE, REPLACEMENT)
    .replace(/\r\n?|[\u2028\u2029\u0085]/g, '\n')
    .replace(UNSAFE, REPLACEMENT);
}

/**
 * Every C0/C1 control, DEL and invisible format character (bidi overrides and isolates, zero-width
 * characters) as a `\uXXXX` escape: the same set stripControls replaces, for machine-readable output
 * (JSON strings, YAML double-quoted scalars) where the text must read back unchanged. Only call it on
 * text where `\u` is an escape (inside such strings) or on a whole JSON document, whose raw control
 * characters can only be inside strings. '\n' is left alone (JSON and YAML escape it themselves).
 */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE_OR_LINE_SEPARATOR, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Whether `text` holds a character escapeControls would escape (or a C0 control JSON escapes anyway). */
export function hasControls(text: string): boolean {
  return new RegExp(UNSAFE_OR_LINE_SEPARATOR.source).test(text);
}

// U+2028/2029 (line and paragraph separators) too: a terminal may break the line there.
const UNSAFE_OR_LINE_SEPARATOR = new RegExp(`${UNSAFE.source.slice(0, -1)}\u2028\u2029]`, 'g');

/** One line of terminal text: controls stripped, line breaks turned into spaces. */
export function terminalLine(text: string): string {
  return stripControls(text).replace(/\n/g, ' ');
}

/**
 * Untrusted text as one Markdown table cell: controls stripped, line breaks turned into spaces, and
 * every ASCII punctuation character CommonMark gives a meaning to backslash-escaped (CommonMark
 * allows any ASCII punctuation to be escaped; GFM tables need '|' escaped even inside code spans).
 * '<' and '>' become entities so no renderer sees a tag.
 */
export function markdownText(text: string): string {
  return (
    terminalLine(text)
      .replace(/[\\`*_{}[\]()#+!|~^$:]/g, (c) => `\\${c}`)
      // GFM turns 'www.' into a link even without a scheme.
      .replace(/(www)\./gi, '$1\\.')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
  );
}

/**
 * Untrusted text in HTML, as element content or a double- or single-quoted attribute value: controls
 * and bidirectional overrides stripped (a name cannot reorder what a reader sees), and the five
 * characters that end text or an attribute (& < > " ') as entities.
 */
export function htmlText(text: string): string {
  return stripControls(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
