// The microphone level for the pre-join meter and the self tile: an AnalyserNode on the local track.

export interface LevelMeter {
  /** 0 (silence) … 1 (loud), smoothed. */
  level(): number;
  close(): void;
}

export function createLevelMeter(track: MediaStreamTrack): LevelMeter | null {
  const Ctx = globalThis.AudioContext;
  if (typeof Ctx !== 'function') return null;
  const ctx = new Ctx();
  // Browsers start a context suspended until the page has had a gesture; resume on the first one.
  const resume = (): void => {
    ctx.resume().catch((err: unknown) => console.warn('resuming the audio context failed', err));
  };
  if (ctx.state === 'suspended') {
    resume();
    document.addEventListener('pointerdown', resume, { once: true });
    document.addEventListener('keydown', resume, { once: true });
  }
  const source = ctx.createMediaStreamSource(new MediaStream([track]));
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let smoothed = 0;
  return {
    level() {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      const rms = Math.sqrt(sum / samples.length);
      // Speech sits around 0.02–0.2 RMS; map that range onto most of the meter.
      const value = Math.min(1, Math.sqrt(rms) * 1.8);
      smoothed = Math.max(value, smoothed * 0.85);
      return smoothed;
    },
    close() {
      document.removeEventListener('pointerdown', resume);
      document.removeEventListener('keydown', resume);
      source.disconnect();
      ctx.close().catch((err: unknown) => console.warn('closing the audio context failed', err));
    },
  };
}
