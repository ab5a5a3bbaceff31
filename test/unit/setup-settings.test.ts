import { describe, expect, it } from 'vitest';
import { loadSetupSettings, SettingsError } from '../../appliance/config/settings.js';

describe('setup settings', () => {
  it('defaults to the appliance', () => {
    expect(loadSetupSettings({})).toEqual({
      runtimeDir: '/run/stube',
      acmeDirectory: 'https://acme-v02.api.letsencrypt.org/directory',
      acmeCaFile: null,
      acmeHttp: null,
      dnsServers: null,
      desecApi: 'https://desec.io/api/v1',
      helperSocket: '/run/stube-system/system.sock',
    });
  });

  it('reads the test network’s ACME server, DNS and deSEC stand-in', () => {
    const s = loadSetupSettings({
      STUBE_ACME_DIRECTORY: 'https://10.0.0.2:14000/dir',
      STUBE_ACME_CA: '/tmp/ca.pem',
      STUBE_ACME_HTTP: '0.0.0.0:8080',
      STUBE_DNS_SERVERS: '10.0.0.2, 10.0.0.3:5353',
      STUBE_DESEC_API: 'http://127.0.0.1:9999/api/v1',
    });
    expect(s.acmeHttp).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(s.dnsServers).toEqual(['10.0.0.2', '10.0.0.3:5353']);
    expect(s.acmeCaFile).toBe('/tmp/ca.pem');
  });

  it.each([
    ['STUBE_DNS_SERVERS', 'dns.example.org'],
    ['STUBE_ACME_DIRECTORY', 'ftp://x/dir'],
    ['STUBE_DESEC_API', 'not a url'],
    ['STUBE_ACME_HTTP', '80'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => loadSetupSettings({ [name]: value })).toThrow(SettingsError);
  });
});
