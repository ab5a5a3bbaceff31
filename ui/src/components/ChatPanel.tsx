// The meeting's text chat, end-to-end encrypted with the participants' sender keys. Messages are
// rendered as text nodes only (never as HTML) and kept in this page's memory only.
import { useState } from 'preact/hooks';
import { useEvent } from '../app/hooks.js';
import { MAX_CHAT_TEXT } from '../e2ee/E2eeSession.js';
import type { Room } from '../meeting/Room.js';

export function ChatPanel({ room }: { room: Room }) {
  const e2ee = room.e2ee;
  const [text, setText] = useState('');
  if (!e2ee) return null;
  useEvent(e2ee, 'changed');
  const names = new Map(room.participants().map((p) => [p.info.id, p.info.name] as const));
  return (
    <aside class="chat" aria-label="Chat">
      <ol class="chat-log" aria-live="polite">
        {e2ee.chatMessages().map((m, i) => (
          <li key={i} class={m.mine ? 'mine' : undefined} data-chat-message>
            <span class="who">{m.mine ? 'You' : (names.get(m.from) ?? 'Someone who left')}</span>: <span class="text">{m.text}</span>
          </li>
        ))}
      </ol>
      <form
        class="chat-form"
        autocomplete="off"
        onSubmit={(e) => {
          e.preventDefault();
          const t = text;
          setText('');
          void e2ee.sendChat(t);
        }}
      >
        <input aria-label="Chat message" maxLength={MAX_CHAT_TEXT} value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button type="submit">Send</button>
      </form>
    </aside>
  );
}
