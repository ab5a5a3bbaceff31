// This participant's camera and microphone: asking for them, choosing devices, muting, turning the
// camera off (which also releases it, so its light goes out) and on again. Survives reconnections and
// media restarts: the room re-publishes these same tracks.
import { Emitter } from './Emitter.js';
import { CAMERA_CONSTRAINTS, MICROPHONE_CONSTRAINTS } from './simulcast.js';

export type MediaKind = 'audio' | 'video';

export type LocalMediaEvents = {
  /** Anything visible changed: tracks, mute state, devices, problems. */
  changed: [];
  /** The track to send for `kind` changed (null: nothing to send). */
  track: [MediaKind, MediaStreamTrack | null];
};

export interface DeviceChoice {
  deviceId: string;
  label: string;
}

export class LocalMedia extends Emitter<LocalMediaEvents> {
  audio: MediaStreamTrack | null = null;
  video: MediaStreamTrack | null = null;
  micMuted = false;
  cameraOff = false;
  cameras: DeviceChoice[] = [];
  microphones: DeviceChoice[] = [];
  cameraId: string | undefined;
  microphoneId: string | undefined;
  /** Why a device is unavailable, in words for the user. */
  cameraProblem: string | null = null;
  microphoneProblem: string | null = null;
  #started: Promise<void> | null = null;
  #stopped = false;
  readonly #media: MediaDevices;

  constructor(media: MediaDevices = navigator.mediaDevices) {
    super();
    this.#media = media;
  }

  /** Asks for camera and microphone once; later calls return the same promise. */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    this.#media.addEventListener('devicechange', this.#onDeviceChange);
    try {
      const stream = await this.#media.getUserMedia({ audio: MICROPHONE_CONSTRAINTS, video: CAMERA_CONSTRAINTS });
      this.#adopt('audio', stream.getAudioTracks()[0] ?? null);
      this.#adopt('video', stream.getVideoTracks()[0] ?? null);
    } catch (err) {
      // One of the two may be missing or blocked: try each on its own so the other still works.
      console.warn('camera and microphone together failed; trying each alone', err);
      await Promise.all([this.#open('audio'), this.#open('video')]);
    }
    await this.refreshDevices();
    this.emit('changed');
  }

  async refreshDevices(): Promise<void> {
    let devices: MediaDeviceInfo[];
    try {
      devices = await this.#media.enumerateDevices();
    } catch (err) {
      console.warn('enumerateDevices failed', err);
      return;
    }
    const list = (kind: MediaDeviceKind): DeviceChoice[] =>
      devices
        .filter((d) => d.kind === kind && d.deviceId !== '')
        .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `${kind === 'videoinput' ? 'Camera' : 'Microphone'} ${i + 1}` }));
    this.cameras = list('videoinput');
    this.microphones = list('audioinput');
  }

  async selectCamera(deviceId: string): Promise<void> {
    this.cameraId = deviceId;
    if (this.cameraOff) {
      this.emit('changed');
      return;
    }
    await this.#open('video');
  }

  async selectMicrophone(deviceId: string): Promise<void> {
    this.microphoneId = deviceId;
    await this.#open('audio');
  }

  setMicMuted(muted: boolean): void {
    this.micMuted = muted;
    if (this.audio) this.audio.enabled = !muted;
    this.emit('changed');
  }

  async setCameraOff(off: boolean): Promise<void> {
    if (off === this.cameraOff) return;
    this.cameraOff = off;
    if (off) {
      this.#replace('video', null);
    } else {
      await this.#open('video');
    }
    this.emit('changed');
  }

  /** Releases camera and microphone. Idempotent. */
  stop(): void {
    this.#stopped = true;
    this.#media.removeEventListener('devicechange', this.#onDeviceChange);
    this.audio?.stop();
    this.video?.stop();
    this.audio = this.video = null;
    this.removeAllListeners();
  }

  #onDeviceChange = (): void => {
    this.refreshDevices().then(
      () => this.emit('changed'),
      (err: unknown) => console.warn('refreshing devices failed', err),
    );
  };

  async #open(kind: MediaKind): Promise<void> {
    const deviceId = kind === 'audio' ? this.microphoneId : this.cameraId;
    const base = kind === 'audio' ? MICROPHONE_CONSTRAINTS : CAMERA_CONSTRAINTS;
    const constraints: MediaTrackConstraints = deviceId ? { ...base, deviceId: { exact: deviceId } } : base;
    // A camera can often be opened only once: release the old one first.
    if (kind === 'video') this.#replace('video', null);
    try {
      const stream = await this.#media.getUserMedia(kind === 'audio' ? { audio: constraints } : { video: constraints });
      this.#adopt(kind, stream.getTracks()[0] ?? null);
    } catch (err) {
      console.warn(`opening the ${kind === 'audio' ? 'microphone' : 'camera'} failed`, err);
      const problem = describeMediaError(err, kind);
      if (kind === 'audio') this.microphoneProblem = problem;
      else this.cameraProblem = problem;
      this.emit('changed');
    }
  }

  #adopt(kind: MediaKind, track: MediaStreamTrack | null): void {
    if (this.#stopped) {
      track?.stop();
      return;
    }
    if (track) {
      if (kind === 'audio') {
        this.microphoneProblem = null;
        this.microphoneId = track.getSettings().deviceId ?? this.microphoneId;
        track.enabled = !this.micMuted;
      } else {
        this.cameraProblem = null;
        this.cameraId = track.getSettings().deviceId ?? this.cameraId;
      }
      track.addEventListener('ended', () => {
        if ((kind === 'audio' ? this.audio : this.video) !== track) return;
        if (kind === 'audio') this.microphoneProblem = 'The microphone stopped working.';
        else this.cameraProblem = 'The camera stopped working.';
        this.#replace(kind, null);
        this.emit('changed');
      });
    }
    this.#replace(kind, track);
    this.emit('changed');
  }

  #replace(kind: MediaKind, track: MediaStreamTrack | null): void {
    const old = kind === 'audio' ? this.audio : this.video;
    if (old === track) return;
    if (kind === 'audio') this.audio = track;
    else this.video = track;
    old?.stop();
    this.emit('track', kind, track);
  }
}

export function describeMediaError(err: unknown, kind: MediaKind): string {
  const device = kind === 'audio' ? 'microphone' : 'camera';
  const name = err instanceof DOMException || err instanceof Error ? err.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return `Access to the ${device} was refused. Allow it in the browser's address bar to be ${kind === 'audio' ? 'heard' : 'seen'}.`;
    case 'NotFoundError':
    case 'OverconstrainedError':
      return `No ${device} was found.`;
    case 'NotReadableError':
    case 'AbortError':
      return `The ${device} is in use by another program or could not be started.`;
    default:
      return `The ${device} could not be opened.`;
  }
}
