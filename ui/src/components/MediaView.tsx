// A <video> that plays a MediaStream. Remote tiles play their audio through it too; if the browser
// blocks playback with sound, the element falls back to muted and offers a button to turn sound on.
import { useEffect, useRef, useState } from 'preact/hooks';

export function MediaView({ stream, muted, mirrored, label }: {
  stream: MediaStream | null;
  muted: boolean;
  mirrored?: boolean;
  label: string;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  const [blocked, setBlocked] = useState(false);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (el.srcObject !== stream) el.srcObject = stream;
    el.muted = muted || blocked;
    if (!stream) return;
    el.play().catch((err: unknown) => {
      if (err instanceof DOMException && err.name === 'NotAllowedError' && !el.muted) {
        console.warn('playback with sound was blocked; playing muted until the user allows it');
        setBlocked(true);
      } else if (!(err instanceof DOMException && err.name === 'AbortError')) {
        console.warn('playing a stream failed', err);
      }
    });
  }, [stream, muted, blocked]);

  useEffect(() => () => {
    const el = ref.current;
    if (el) el.srcObject = null;
  }, []);

  return (
    <>
      <video ref={ref} class={mirrored ? 'mirrored' : undefined} autoplay playsInline muted={muted || blocked} aria-label={label} />
      {blocked && (
        <button type="button" class="unblock" onClick={() => setBlocked(false)}>
          Turn on sound
        </button>
      )}
    </>
  );
}
