// Asked before knocking when a room has a password. The password goes only into the next hello.
import { useState } from 'preact/hooks';

export function RoomPassword({ wrong, submit }: { wrong: boolean; submit: (password: string) => void }) {
  const [value, setValue] = useState('');
  return (
    <main class="ended">
      <h1>This room has a password</h1>
      {wrong && (
        <p class="problem" role="alert">
          That password was not right.
        </p>
      )}
      <form
        onSubmit={(ev) => {
          ev.preventDefault();
          if (value) submit(value);
        }}
      >
        <label>
          Room password{' '}
          <input type="password" name="room-password" maxLength={128} autoComplete="off" value={value} onInput={(ev) => setValue(ev.currentTarget.value)} />
        </label>
        <div class="row">
          <button type="submit" class="primary">
            Continue
          </button>
        </div>
      </form>
    </main>
  );
}
