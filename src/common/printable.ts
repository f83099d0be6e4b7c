// Terminal escape sequences: CSI (ESC [ … or the C1 byte), OSC (ESC ] … BEL or ST, hyperlinks and titles), the
// string sequences DCS/SOS/PM/APC, and two-byte ESC sequences.
const ESCAPE_SEQUENCES =
  // eslint-disable-next-line no-control-regex
  /(\u001b\[|\u009b)[0-?]*[ -/]*[@-~]?|(\u001b\]|\u009d)[^\u0007\u001b\u009c]*(\u0007|\u001b\\|\u009c)?|(\u001b[PX^_]|[\u0090\u0098\u009e\u009f])[^\u001b\u009c]*(\u001b\\|\u009c)?|\u001b[ -/]*[0-~]?/g;
// Other control characters (C0 but line breaks and tabs, DEL, C1) and the bidirectional overrides that reorder what
// a reader sees.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const LINE_BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;

/**
 * Text from outside (Zendesk's error bodies, warnings) as it may be shown in a terminal (`status`) or the Web UI:
 * escape sequences and control characters removed, line breaks turned into a space. Pure: workflow code uses it.
 */
export function printable(text: string): string {
  return text.replace(ESCAPE_SEQUENCES, '').replace(CONTROLS, '').replace(LINE_BREAKS, ' ');
}
