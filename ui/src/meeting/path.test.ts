import { describe, expect, it } from 'vitest';
import { selectedPath, type CandidateStatsEntry } from './stats.js';

function report(local: Partial<CandidateStatsEntry>, viaTransport = true): CandidateStatsEntry[] {
  return [
    ...(viaTransport ? [{ type: 'transport', id: 'T', selectedCandidatePairId: 'P2' }] : []),
    { type: 'candidate-pair', id: 'P1', localCandidateId: 'L1', state: 'failed' },
    { type: 'candidate-pair', id: 'P2', localCandidateId: 'L2', state: 'succeeded', nominated: true },
    { type: 'local-candidate', id: 'L1', candidateType: 'host', protocol: 'udp' },
    { type: 'local-candidate', id: 'L2', ...local },
  ];
}

describe('selectedPath', () => {
  it('names the path of the selected pair', () => {
    expect(selectedPath(report({ candidateType: 'host', protocol: 'udp' }))).toBe('direct-udp');
    expect(selectedPath(report({ candidateType: 'srflx', protocol: 'udp' }))).toBe('direct-udp');
    expect(selectedPath(report({ candidateType: 'relay', protocol: 'udp', relayProtocol: 'udp' }))).toBe('turn-udp');
    expect(selectedPath(report({ candidateType: 'relay', protocol: 'udp', relayProtocol: 'tcp' }))).toBe('turn-tcp');
    expect(selectedPath(report({ candidateType: 'relay', protocol: 'udp', relayProtocol: 'tls' }))).toBe('turn-tls');
  });

  it('finds the pair without a transport entry (Firefox) and says unknown before one is chosen', () => {
    expect(selectedPath(report({ candidateType: 'relay', relayProtocol: 'tls' }, false))).toBe('turn-tls');
    expect(selectedPath([{ type: 'candidate-pair', id: 'P1', localCandidateId: 'L1', state: 'in-progress' }])).toBe('unknown');
    expect(selectedPath([])).toBe('unknown');
  });
});
