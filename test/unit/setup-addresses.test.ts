import { describe, expect, it } from 'vitest';
import { classifyAddress, isLocalSender, wanSituation } from '../../appliance/setup/addresses.js';
import { parseDefaultGateway } from '../../appliance/setup/router.js';

describe('address classification', () => {
  it.each([
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['172.32.0.1', 'public'],
    ['172.15.255.255', 'public'],
    ['192.168.1.20', 'private'],
    ['192.169.0.1', 'public'],
    ['169.254.10.3', 'link-local'],
    ['127.0.0.1', 'loopback'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['100.63.255.255', 'public'],
    ['100.128.0.0', 'public'],
    ['8.8.8.8', 'public'],
    ['198.51.100.7', 'public'],
    ['::ffff:192.168.0.5', 'private'],
    ['::ffff:100.64.1.1', 'cgnat'],
    ['::1', 'loopback'],
    ['fe80::1%eth0', 'link-local'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['2001:db8::1', 'public'],
    ['::', 'public'],
    ['not-an-ip', 'invalid'],
    ['300.1.1.1', 'invalid'],
  ])('%s is %s', (addr, kind) => {
    expect(classifyAddress(addr)).toBe(kind);
  });

  it('lets only home-network senders use the wizard', () => {
    expect(isLocalSender('192.168.178.23')).toBe(true);
    expect(isLocalSender('fe80::abcd')).toBe(true);
    expect(isLocalSender('::ffff:10.1.2.3')).toBe(true);
    expect(isLocalSender('100.64.3.4')).toBe(false);
    expect(isLocalSender('203.0.113.9')).toBe(false);
    expect(isLocalSender('2a02:8070::1')).toBe(false);
    expect(isLocalSender('')).toBe(false);
  });

  it.each([
    ['203.0.113.1', 'public'],
    ['100.64.12.1', 'cgnat'],
    ['100.100.100.100', 'cgnat'],
    ['192.168.0.1', 'private'],
    ['10.10.0.2', 'private'],
    [null, 'unknown'],
  ])('WAN address %s means %s', (ip, situation) => {
    expect(wanSituation(ip)).toBe(situation);
  });

  it('tells a router without a public address from no router at all', () => {
    expect(wanSituation(null, true)).toBe('noPublic');
    expect(wanSituation('0.0.0.0', true)).toBe('noPublic');
    expect(wanSituation('garbage', true)).toBe('noPublic');
    expect(wanSituation(null, false)).toBe('unknown');
  });

  it('reads the default gateway from the kernel route table', () => {
    const table = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    ].join('\n');
    expect(parseDefaultGateway(table)).toBe('192.168.1.1');
    expect(parseDefaultGateway(table.split('\n').slice(0, 2).join('\n'))).toBeNull();
  });
});
