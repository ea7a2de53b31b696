/** A message as every client receives it (`at`: ISO time, set by the server). */
export interface ChatMessage {
  username: string;
  text: string;
  at: string;
}

export const MAX_MESSAGE_LENGTH = 2000;

/** The acknowledgement of a `message` event. */
export type MessageAck = { ok: true } | { error: string };

/** The trimmed text of a `message` event's payload, or a message saying why it is refused. */
export function parseMessageText(payload: unknown): { text: string } | { error: string } {
  const raw = (payload as { text?: unknown } | null | undefined)?.text;
  if (typeof raw !== 'string') return { error: 'Send {"text": "..."}: the text is missing' };
  const text = raw.trim();
  if (text.length === 0) return { error: 'The message is empty' };
  const length = [...text].length;
  if (length > MAX_MESSAGE_LENGTH) return { error: `The message is too long: ${length} characters, at most ${MAX_MESSAGE_LENGTH}` };
  return { text };
}
