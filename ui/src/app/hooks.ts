import { useEffect, useReducer } from 'preact/hooks';
import type { Emitter, EventMap } from '../meeting/Emitter.js';

/** Re-renders the component whenever `emitter` emits `event`. */
export function useEvent<E extends EventMap>(emitter: Emitter<E>, event: keyof E): void {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => emitter.on(event, () => bump(undefined)), [emitter, event]);
}
