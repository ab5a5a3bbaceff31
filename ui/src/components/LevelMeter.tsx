// The microphone level as a bar, updated every animation frame without re-rendering the component.
import { useEffect, useRef } from 'preact/hooks';
import { createLevelMeter } from '../meeting/levelMeter.js';

export function LevelMeter({ track, muted }: { track: MediaStreamTrack | null; muted: boolean }) {
  const bar = useRef<HTMLDivElement>(null);
  const meterEl = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!track || muted) {
      bar.current?.style.setProperty('--level', '0');
      return;
    }
    const meter = createLevelMeter(track);
    if (!meter) return;
    let frame = 0;
    let lastAria = -1;
    const tick = (): void => {
      const level = meter.level();
      bar.current?.style.setProperty('--level', level.toFixed(3));
      const pct = Math.round(level * 10) * 10;
      if (pct !== lastAria) {
        lastAria = pct;
        meterEl.current?.setAttribute('aria-valuenow', String(pct));
      }
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => {
      cancelAnimationFrame(frame);
      meter.close();
    };
  }, [track, muted]);

  return (
    <div ref={meterEl} class="meter" role="meter" aria-label="Microphone level" aria-valuemin={0} aria-valuemax={100} aria-valuenow={0}>
      <div ref={bar} class="meter-bar" />
    </div>
  );
}
