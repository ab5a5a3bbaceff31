// The admin panel at /admin: sign in, then members, rooms with their links, and live meetings (counts
// only — never anyone's address). All user text is rendered as text by Preact, never as HTML.
import { useEffect, useState } from 'preact/hooks';
import { formatFragment } from '../app/fragment.js';
import { meetingPathFor } from '../app/routes.js';
import { TurnPanel } from './TurnPanel.js';
import { UpdatePanel } from './UpdatePanel.js';
import { call, roomSecret, type Account, type LiveMeeting, type Room } from './api.js';

export function AdminApp() {
  const [me, setMe] = useState<Account | null | undefined>(undefined);
  useEffect(() => {
    call<{ account: Account }>('GET', '/session').then(
      (r) => setMe(r.account),
      () => setMe(null),
    );
  }, []);
  if (me === undefined) return <main class="admin">Loading…</main>;
  if (me === null) return <SignIn onSignedIn={setMe} />;
  return (
    <main class="admin">
      <header class="row">
        <h1 class="brand small">Stube admin</h1>
        <span>
          Signed in as <strong>{me.name}</strong> ({me.role})
        </span>
        <button type="button" class="small" onClick={() => void call('DELETE', '/session').then(() => setMe(null))}>
          Sign out
        </button>
      </header>
      {me.role === 'admin' && <Members me={me} />}
      <Rooms isAdmin={me.role === 'admin'} />
      <Live isAdmin={me.role === 'admin'} />
      {me.role === 'admin' && <TurnPanel />}
      {me.role === 'admin' && <UpdatePanel />}
    </main>
  );
}

function useProblem(): [string | null, (err: unknown) => void, () => void] {
  const [problem, setProblem] = useState<string | null>(null);
  return [problem, (err) => setProblem(err instanceof Error ? err.message : String(err)), () => setProblem(null)];
}

function Problem({ text }: { text: string | null }) {
  return text ? (
    <p class="problem" role="alert">
      {text}
    </p>
  ) : null;
}

function SignIn({ onSignedIn }: { onSignedIn: (a: Account) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [problem, fail] = useProblem();
  return (
    <main class="admin ended">
      <h1>Sign in</h1>
      <form
        onSubmit={(ev) => {
          ev.preventDefault();
          call<{ account: Account }>('POST', '/session', { name, password }).then((r) => onSignedIn(r.account), fail);
        }}
      >
        <label>
          Name <input name="name" autoComplete="username" maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Password{' '}
          <input name="password" type="password" autoComplete="current-password" maxLength={256} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
      <Problem text={problem} />
    </main>
  );
}

function Members({ me }: { me: Account }) {
  const [list, setList] = useState<Account[]>([]);
  const [problem, fail, clear] = useProblem();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<'member' | 'admin'>('member');
  const reload = (): void => void call<{ accounts: Account[] }>('GET', '/accounts').then((r) => setList(r.accounts), fail);
  useEffect(reload, []);
  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      <ul data-testid="members">
        {list.map((a) => (
          <li key={a.id}>
            <span class="who">{a.name}</span> <span class="badge">{a.role}</span>{' '}
            <button
              type="button"
              class="small"
              onClick={() => {
                const pw = prompt(`New password for ${a.name} (at least 10 characters)`);
                if (pw) call('PUT', `/accounts/${a.id}/password`, { password: pw }).then(clear, fail);
              }}
            >
              Reset password
            </button>
            {a.id !== me.id && (
              <button type="button" class="danger small" onClick={() => call('DELETE', `/accounts/${a.id}`).then(reload, fail)}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      <form
        class="row"
        onSubmit={(ev) => {
          ev.preventDefault();
          call('POST', '/accounts', { name, password, role }).then(() => {
            setName('');
            setPassword('');
            clear();
            reload();
          }, fail);
        }}
      >
        <input aria-label="Name" placeholder="name" maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <input aria-label="Password" placeholder="password" type="password" autoComplete="new-password" maxLength={256} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        <select aria-label="Role" value={role} onChange={(e) => setRole(e.currentTarget.value === 'admin' ? 'admin' : 'member')}>
          <option value="member">member</option>
          <option value="admin">admin</option>
        </select>
        <button type="submit" class="primary small">
          Add member
        </button>
      </form>
      <Problem text={problem} />
    </section>
  );
}

function linkFor(roomId: string, token: string): string {
  return `${location.origin}${meetingPathFor(roomId)}${formatFragment({ secret: roomSecret(roomId), invite: token })}`;
}

function Rooms({ isAdmin }: { isAdmin: boolean }) {
  const [rooms, setRooms] = useState<Room[]>([]);
  const [problem, fail, clear] = useProblem();
  const [link, setLink] = useState<{ roomId: string; url: string } | null>(null);
  const [name, setName] = useState('');
  const [waitingRoom, setWaitingRoom] = useState(true);
  const [password, setPassword] = useState('');
  const reload = (): void => void call<{ rooms: Room[] }>('GET', '/rooms').then((r) => setRooms(r.rooms), fail);
  useEffect(reload, []);

  const showLink = (roomId: string, token: string): void => {
    const url = linkFor(roomId, token);
    setLink({ roomId, url });
    navigator.clipboard?.writeText(url).catch((err: unknown) => console.warn('could not copy the link', err));
  };
  const newLink = (room: Room, role: 'moderator' | 'participant'): void => {
    call<{ token: string }>('POST', `/rooms/${room.id}/invites`, { role, ttlSeconds: null }).then((r) => {
      showLink(room.id, r.token);
      reload();
    }, fail);
  };

  return (
    <section aria-labelledby="rooms-title">
      <h2 id="rooms-title">Rooms</h2>
      <ul data-testid="rooms">
        {rooms.map((room) => (
          <li key={room.id} data-testid="room">
            <span class="who">{room.name}</span>
            <label>
              <input
                type="checkbox"
                checked={room.waitingRoom}
                onChange={(e) => call('PATCH', `/rooms/${room.id}`, { waitingRoom: e.currentTarget.checked }).then(reload, fail)}
              />{' '}
              waiting room
            </label>
            <label>
              <input
                type="checkbox"
                checked={room.guestsAllowed}
                onChange={(e) => call('PATCH', `/rooms/${room.id}`, { guestsAllowed: e.currentTarget.checked }).then(reload, fail)}
              />{' '}
              guests
            </label>
            {room.hasPassword && <span class="badge">password</span>}
            <button type="button" class="small" onClick={() => newLink(room, 'participant')}>
              New participant link
            </button>
            <button type="button" class="small" onClick={() => newLink(room, 'moderator')}>
              New moderator link
            </button>
            {isAdmin && (
              <button type="button" class="danger small" onClick={() => call('DELETE', `/rooms/${room.id}`).then(reload, fail)}>
                Delete room
              </button>
            )}
            <ul>
              {room.invites
                .filter((i) => !i.revoked)
                .map((i) => (
                  <li key={i.id}>
                    {i.role} link{i.expiresAt ? `, expires ${new Date(i.expiresAt * 1000).toLocaleString()}` : ''}{' '}
                    <button type="button" class="small" onClick={() => call<{ token: string }>('POST', `/invites/${i.id}/token`).then((r) => showLink(room.id, r.token), fail)}>
                      Copy link
                    </button>
                    <button type="button" class="danger small" onClick={() => call('DELETE', `/invites/${i.id}`).then(reload, fail)}>
                      Revoke
                    </button>
                  </li>
                ))}
            </ul>
            {link?.roomId === room.id && <input class="link" readOnly aria-label="Invite link" value={link.url} data-testid="invite-link" />}
          </li>
        ))}
      </ul>
      <form
        class="row"
        onSubmit={(ev) => {
          ev.preventDefault();
          call('POST', '/rooms', {
            name,
            waitingRoom,
            guestsAllowed: true,
            maxParticipants: 16,
            lockedWithoutModerator: true,
            ...(password ? { password } : {}),
          }).then(() => {
            setName('');
            setPassword('');
            clear();
            reload();
          }, fail);
        }}
      >
        <input aria-label="Room name" placeholder="room name" maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <label>
          <input type="checkbox" checked={waitingRoom} onChange={(e) => setWaitingRoom(e.currentTarget.checked)} /> waiting room
        </label>
        <input aria-label="Room password (optional)" placeholder="password (optional)" type="password" autoComplete="off" maxLength={128} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        <button type="submit" class="primary small">
          Create room
        </button>
      </form>
      <Problem text={problem} />
    </section>
  );
}

function Live({ isAdmin }: { isAdmin: boolean }) {
  const [meetings, setMeetings] = useState<LiveMeeting[]>([]);
  const [problem, fail] = useProblem();
  const reload = (): void => void call<{ meetings: LiveMeeting[] }>('GET', '/live').then((r) => setMeetings(r.meetings), fail);
  useEffect(() => {
    reload();
    const timer = setInterval(reload, 5000);
    return () => clearInterval(timer);
  }, []);
  return (
    <section aria-labelledby="live-title">
      <h2 id="live-title">Live meetings</h2>
      {meetings.length === 0 && <p>No meeting is running.</p>}
      <ul data-testid="live">
        {meetings.map((m) => (
          <li key={m.id}>
            <span class="who">{m.room ?? 'Ad-hoc meeting'}</span>: {m.participants} {m.participants === 1 ? 'participant' : 'participants'}
            {m.waiting > 0 && `, ${m.waiting} waiting`}{' '}
            {isAdmin && (
              <button type="button" class="danger small" onClick={() => call('DELETE', `/live/${m.id}`).then(reload, fail)}>
                End meeting
              </button>
            )}
          </li>
        ))}
      </ul>
      <Problem text={problem} />
    </section>
  );
}
