// Before joining: see yourself, hear that the microphone works, pick devices, say who you are.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useEvent } from '../app/hooks.js';
import type { Room } from '../meeting/Room.js';
import { LIMITS } from '../meeting/protocolImports.js';
import { Icon } from './Icon.js';
import { LevelMeter } from './LevelMeter.js';
import { MediaView } from './MediaView.js';

const NAME_KEY = 'stube.name';

function rememberedName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return ''; // storage disabled: nothing remembered, nothing lost
  }
}

export function PreJoin({ room }: { room: Room }) {
  const local = room.local;
  useEvent(local, 'changed');
  const [name, setName] = useState(rememberedName);
  const [problem, setProblem] = useState<string | null>(null);
  const [starting, setStarting] = useState(true);
  const [busy, setBusy] = useState(false);
  const nameInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    let live = true;
    local.start().finally(() => live && setStarting(false));
    return () => {
      live = false;
    };
  }, [local]);

  const previewTrack = local.cameraOff ? null : local.video;
  const [preview, setPreview] = useState<MediaStream | null>(null);
  useEffect(() => setPreview(previewTrack ? new MediaStream([previewTrack]) : null), [previewTrack]);

  async function join(ev: Event): Promise<void> {
    ev.preventDefault();
    const trimmed = name.trim().slice(0, LIMITS.maxNameChars);
    if (!trimmed) {
      setProblem('Please enter your name.');
      nameInput.current?.focus();
      return;
    }
    setBusy(true);
    try {
      localStorage.setItem(NAME_KEY, trimmed);
    } catch (err) {
      console.warn('could not remember the name', err);
    }
    await local.start();
    room.join(trimmed);
  }

  return (
    <main class="prejoin">
      <h1>Ready to join?</h1>
      <div class="prejoin-layout">
        <section class="preview" aria-label="Your camera">
          {preview ? (
            <MediaView stream={preview} muted mirrored label="Your camera preview" />
          ) : (
            <div class="preview-empty">
              {starting ? 'Starting camera…' : local.cameraProblem ?? (local.cameraOff ? 'Camera is off' : 'No camera')}
            </div>
          )}
          <div class="preview-controls">
            <button
              type="button"
              class="round"
              aria-pressed={local.micMuted}
              onClick={() => local.setMicMuted(!local.micMuted)}
              disabled={!local.audio}
            >
              <Icon name={local.micMuted ? 'micOff' : 'mic'} />
              <span class="label">{local.micMuted ? 'Unmute' : 'Mute'}</span>
            </button>
            <button
              type="button"
              class="round"
              aria-pressed={local.cameraOff}
              onClick={() => void local.setCameraOff(!local.cameraOff)}
              disabled={!local.video && !local.cameraOff && local.cameras.length === 0}
            >
              <Icon name={local.cameraOff ? 'cameraOff' : 'camera'} />
              <span class="label">{local.cameraOff ? 'Start camera' : 'Stop camera'}</span>
            </button>
          </div>
        </section>

        <form class="join-form" onSubmit={(ev) => void join(ev)} noValidate>
          <label for="display-name">Your name</label>
          <input
            id="display-name"
            ref={nameInput}
            type="text"
            autocomplete="name"
            maxLength={LIMITS.maxNameChars}
            value={name}
            onInput={(ev) => setName(ev.currentTarget.value)}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? 'name-problem' : undefined}
          />
          {problem && (
            <p id="name-problem" class="problem" role="alert">
              {problem}
            </p>
          )}

          <label for="camera-select">Camera</label>
          <select
            id="camera-select"
            value={local.cameraId ?? ''}
            onChange={(ev) => void local.selectCamera(ev.currentTarget.value)}
            disabled={local.cameras.length === 0}
          >
            {local.cameras.length === 0 && <option value="">No camera</option>}
            {local.cameras.map((d) => (
              <option value={d.deviceId} key={d.deviceId}>
                {d.label}
              </option>
            ))}
          </select>
          {local.cameraProblem && <p class="problem">{local.cameraProblem}</p>}

          <label for="microphone-select">Microphone</label>
          <select
            id="microphone-select"
            value={local.microphoneId ?? ''}
            onChange={(ev) => void local.selectMicrophone(ev.currentTarget.value)}
            disabled={local.microphones.length === 0}
          >
            {local.microphones.length === 0 && <option value="">No microphone</option>}
            {local.microphones.map((d) => (
              <option value={d.deviceId} key={d.deviceId}>
                {d.label}
              </option>
            ))}
          </select>
          <LevelMeter track={local.audio} muted={local.micMuted} />
          {local.microphoneProblem && <p class="problem">{local.microphoneProblem}</p>}

          <button type="submit" class="primary big" disabled={busy}>
            Join
          </button>
        </form>
      </div>
    </main>
  );
}
