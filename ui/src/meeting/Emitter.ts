// A small typed event emitter: each emitter declares one event map, e.g.
// `type RoomEvents = { state: [RoomState]; closed: [] }`. Listener errors are reported, never swallowed
// silently, and do not stop the other listeners.
export type EventMap = Record<string, unknown[]>;

// Listeners are stored untyped; on()/emit() keep the pairing of event name and arguments typed.
type Listener = (...args: unknown[]) => void;

export class Emitter<E extends EventMap> {
  #listeners = new Map<keyof E, Set<Listener>>();

  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as unknown as Listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof E>(event: K, listener: (...args: E[K]) => void): void {
    this.#listeners.get(event)?.delete(listener as unknown as Listener);
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (err) {
        console.error(`listener for "${String(event)}" failed`, err);
      }
    }
  }

  protected removeAllListeners(): void {
    this.#listeners.clear();
  }
}
