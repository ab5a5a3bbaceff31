// Publishing parameters: three VP8 simulcast layers and codec ordering. The service asks Janus for the
// layer that fits each subscriber's tile; the browser drops layers the camera is too small for.

/** Full, half and quarter resolution; rids as Janus expects them (high, medium, low). */
export const SIMULCAST_ENCODINGS: readonly RTCRtpEncodingParameters[] = [
  { rid: 'h', active: true, maxBitrate: 1_200_000, scaleResolutionDownBy: 1 },
  { rid: 'm', active: true, maxBitrate: 400_000, scaleResolutionDownBy: 2 },
  { rid: 'l', active: true, maxBitrate: 120_000, scaleResolutionDownBy: 4 },
];

/** What we ask of a camera: 720p where it can, never more than 30 frames per second. */
export const CAMERA_CONSTRAINTS: MediaTrackConstraints = {
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 30, max: 30 },
};

export const MICROPHONE_CONSTRAINTS: MediaTrackConstraints = {
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
};

interface CodecLike {
  mimeType: string;
}

/**
 * Returns `codecs` with those of `mimeType` (e.g. "video/VP8") first, everything else (other codecs,
 * rtx, red, ulpfec) after them in the browser's order. Returns null when the browser lacks the codec.
 */
export function preferCodec<C extends CodecLike>(codecs: readonly C[], mimeType: string): C[] | null {
  const wanted = mimeType.toLowerCase();
  const first = codecs.filter((c) => c.mimeType.toLowerCase() === wanted);
  if (first.length === 0) return null;
  return [...first, ...codecs.filter((c) => c.mimeType.toLowerCase() !== wanted)];
}
