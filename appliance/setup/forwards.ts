// The port forwards the box needs from the router, in one list that both the automatic mapping (UPnP
// IGD / NAT-PMP) and the manual instructions are made from.
export interface Forward {
  protocol: 'TCP' | 'UDP';
  /** First and last external port (equal for a single port); internal ports are the same numbers
   *  shifted by `internalOffset` (the box may listen on other ports than it is reached on). */
  externalFrom: number;
  externalTo: number;
  internalFrom: number;
  purpose: 'https' | 'acme' | 'media' | 'turn';
}

export interface BoxPorts {
  /** Where the box listens for HTTPS (443 on the appliance) and for the plain-HTTP ACME challenge. */
  httpsPort: number;
  httpPort: number;
  rtp: { min: number; max: number };
  /** coturn's UDP port; null when TURN is not running. */
  turnPort: number | null;
}

export function requiredForwards(ports: BoxPorts): Forward[] {
  const out: Forward[] = [
    { protocol: 'TCP', externalFrom: 443, externalTo: 443, internalFrom: ports.httpsPort, purpose: 'https' },
    { protocol: 'TCP', externalFrom: 80, externalTo: 80, internalFrom: ports.httpPort, purpose: 'acme' },
    { protocol: 'UDP', externalFrom: ports.rtp.min, externalTo: ports.rtp.max, internalFrom: ports.rtp.min, purpose: 'media' },
  ];
  if (ports.turnPort !== null) out.push({ protocol: 'UDP', externalFrom: 3478, externalTo: 3478, internalFrom: ports.turnPort, purpose: 'turn' });
  return out;
}

/** Each single port mapping a UPnP/NAT-PMP router needs (neither protocol maps ranges). */
export function singleMappings(forwards: Forward[]): { protocol: 'TCP' | 'UDP'; externalPort: number; internalPort: number }[] {
  const out: { protocol: 'TCP' | 'UDP'; externalPort: number; internalPort: number }[] = [];
  for (const f of forwards) {
    for (let p = f.externalFrom; p <= f.externalTo; p++) out.push({ protocol: f.protocol, externalPort: p, internalPort: f.internalFrom + (p - f.externalFrom) });
  }
  return out;
}
