import { describe, expect, it } from 'vitest';
import { publisherMids } from '../../appliance/media/janus-media.js';

describe('publisherMids', () => {
  it('finds the mid of each audio and video m-line (what a moderator mute addresses)', () => {
    const sdp = ['v=0', 'o=- 1 2 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=group:BUNDLE 0 1 2',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:1',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:2', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:v2', ''].join('\r\n');
    expect(publisherMids(sdp)).toEqual({ audio: ['0'], video: ['1', 'v2'] });
    expect(publisherMids('v=0\r\n')).toEqual({ audio: [], video: [] });
  });
});
