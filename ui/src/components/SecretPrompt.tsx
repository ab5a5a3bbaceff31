// A meeting link without its secret: ask for it. The field is client-side only (no form submission, no
// request); the secret goes into the page's fragment, where the browser keeps it to itself.
import { useState } from 'preact/hooks';
import { formatFragment, parseFragment } from '../app/fragment.js';

/** Accepts the whole link (anything with '#…') or the secret alone. */
export function secretFromInput(text: string): string | null {
  const t = text.trim();
  const hash = t.includes('#') ? t.slice(t.indexOf('#')) : t;
  return parseFragment(hash).secret ?? null;
}

export function SecretPrompt({ onSecret }: { onSecret: (secret: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <main class="ended">
      <h1>This link lacks its secret</h1>
      <p>
        Meetings are end-to-end encrypted with a secret that is part of the full invite link (after the “#”). Paste the
        full link or the secret here; it stays in this browser.
      </p>
      <form
        class="join-form"
        autocomplete="off"
        onSubmit={(e) => {
          e.preventDefault();
          const secret = secretFromInput(value);
          if (!secret) {
            setError('That is not a meeting secret. Paste the whole invite link you were sent.');
            return;
          }
          const keep = parseFragment(location.hash);
          history.replaceState(null, '', `${location.pathname}${formatFragment({ ...keep, secret })}`);
          onSecret(secret);
        }}
      >
        <label for="meeting-secret">Meeting link or secret</label>
        <input id="meeting-secret" type="password" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} spellcheck={false} />
        <button type="submit" class="primary">
          Continue
        </button>
        {error && (
          <p class="problem" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
