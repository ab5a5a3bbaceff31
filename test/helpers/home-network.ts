// A simulated home network made of network namespaces, for the setup wizard's tests:
//
//   host (the test, LAN browser) ─┐
//   box (the service) ────────────┤ br0 in "router" ── wan0 ══ eth0 "internet" (ACME server, DNS, browser)
//                                 LAN 192.168.N.0/24   WAN: a public-looking address or 100.64.N.1 (CGNAT)
//
// The router forwards and masquerades with nftables; its filter and NAT tables have the empty chains
// miniupnpd fills. Nothing leaves the machine: the "internet" namespace has no other link.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export interface HomeNetwork {
  router: string;
  box: string;
  internet: string;
  /** The LAN prefix, e.g. 192.168.57 */
  lan: string;
  routerLan: string;
  boxIp: string;
  hostIp: string;
  boxIf: string;
  wanIp: string;
  internetIp: string;
  /** Gives the router's WAN side a new address (and the internet side one in the same /24). */
  setWan(ip: string): void;
  /** Runs a command in a namespace and returns its output. */
  run(ns: string, argv: string[], input?: string): string;
  /** Starts a long-running command in a namespace; stopped by destroy(). */
  spawn(ns: string, argv: string[], env?: NodeJS.ProcessEnv): ChildProcess;
  destroy(): Promise<void>;
}

function sh(argv: string[], input?: string): string {
  const [cmd = '', ...args] = argv;
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input !== undefined ? { input } : {}) });
}

/** The public-looking WAN prefix. miniupnpd refuses reserved ranges (documentation nets included), so
 *  this is an ordinary unicast block; it exists only inside the test's namespaces. */
export const WAN_PREFIX = '57.128';

export function routerRules(wanIf: string): string {
  return `table inet home {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "br0" accept
    jump miniupnpd
  }
  chain miniupnpd {
  }
}
table inet homenat {
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    oifname "${wanIf}" masquerade
    jump postrouting_miniupnpd
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
}
`;
}

export function createHomeNetwork(): HomeNetwork {
  if (process.getuid?.() !== 0) throw new Error('the home network test needs root');
  const used = sh(['ip', '-4', '-o', 'addr']);
  let n = 0;
  for (let i = 0; i < 50 && n === 0; i++) {
    const c = 20 + Math.floor(Math.random() * 200);
    if (!used.includes(`192.168.${c}.`) && !used.includes(`${WAN_PREFIX}.${c}.`)) n = c;
  }
  if (n === 0) throw new Error('no free LAN prefix for the home network');
  const id = `${process.pid % 1000}${n}`;
  const router = `stube-rt${id}`;
  const box = `stube-bx${id}`;
  const internet = `stube-in${id}`;
  const hostIf = `sth${id}`;
  const lan = `192.168.${n}`;
  const children: ChildProcess[] = [];
  const net: HomeNetwork = {
    router,
    box,
    internet,
    lan,
    routerLan: `${lan}.1`,
    boxIp: `${lan}.2`,
    hostIp: `${lan}.3`,
    boxIf: 'eth0',
    wanIp: `${WAN_PREFIX}.${n}.1`,
    internetIp: `${WAN_PREFIX}.${n}.2`,
    setWan(ip: string) {
      const prefix = ip.split('.').slice(0, 3).join('.');
      net.run(router, ['ip', 'addr', 'flush', 'dev', 'wan0']);
      net.run(router, ['ip', 'addr', 'add', `${ip}/24`, 'dev', 'wan0']);
      net.run(internet, ['ip', 'addr', 'flush', 'dev', 'eth0']);
      net.run(internet, ['ip', 'addr', 'add', `${prefix}.2/24`, 'dev', 'eth0']);
      net.run(router, ['ip', 'route', 'replace', 'default', 'via', `${prefix}.2`]);
      net.wanIp = ip;
      net.internetIp = `${prefix}.2`;
    },
    run: (ns, argv, input) => sh(['ip', 'netns', 'exec', ns, ...argv], input),
    spawn(ns, argv, env) {
      const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
      children.push(child);
      return child;
    },
    async destroy() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      await Promise.all(
        children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise<void>((res) => {
          const t = setTimeout(() => {
            c.kill('SIGKILL');
            res();
          }, 5000);
          c.once('exit', () => {
            clearTimeout(t);
            res();
          });
        }))),
      );
      for (const args of [['link', 'del', hostIf], ['netns', 'del', router], ['netns', 'del', box], ['netns', 'del', internet]]) {
        try {
          sh(['ip', ...args]);
        } catch {
          // Already gone with its namespace.
        }
      }
    },
  };
  try {
    for (const ns of [router, box, internet]) {
      sh(['ip', 'netns', 'add', ns]);
      net.run(ns, ['ip', 'link', 'set', 'lo', 'up']);
    }
    const r = (...a: string[]) => net.run(router, a);
    r('ip', 'link', 'add', 'br0', 'type', 'bridge');
    r('ip', 'addr', 'add', `${net.routerLan}/24`, 'dev', 'br0');
    r('ip', 'link', 'set', 'br0', 'up');
    // box ↔ router
    r('ip', 'link', 'add', 'lanbox', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', box);
    r('ip', 'link', 'set', 'lanbox', 'master', 'br0', 'up');
    net.run(box, ['ip', 'addr', 'add', `${net.boxIp}/24`, 'dev', 'eth0']);
    net.run(box, ['ip', 'link', 'set', 'eth0', 'up']);
    net.run(box, ['ip', 'route', 'add', 'default', 'via', net.routerLan]);
    // host ↔ router (no default route on the host changes: only the LAN /24)
    sh(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'lanhost', 'netns', router]);
    r('ip', 'link', 'set', 'lanhost', 'master', 'br0', 'up');
    sh(['ip', 'addr', 'add', `${net.hostIp}/24`, 'dev', hostIf]);
    sh(['ip', 'link', 'set', hostIf, 'up']);
    // router ↔ internet
    r('ip', 'link', 'add', 'wan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', internet);
    r('ip', 'link', 'set', 'wan0', 'up');
    net.run(internet, ['ip', 'link', 'set', 'eth0', 'up']);
    net.setWan(net.wanIp);
    r('sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    net.run(router, ['nft', '-f', '-'], routerRules('wan0'));
  } catch (err) {
    void net.destroy();
    throw err;
  }
  return net;
}

/** miniupnpd's configuration for the router namespace (UPnP IGD and NAT-PMP on the LAN bridge). */
export function miniupnpdConf(net: HomeNetwork, leaseFile: string): string {
  return [
    'ext_ifname=wan0',
    'listening_ip=br0',
    'port=0',
    'enable_natpmp=yes',
    'enable_upnp=yes',
    'secure_mode=yes',
    'system_uptime=yes',
    'upnp_table_name=home',
    'upnp_nat_table_name=homenat',
    'upnp_forward_chain=miniupnpd',
    'upnp_nat_chain=prerouting_miniupnpd',
    'upnp_nat_postrouting_chain=postrouting_miniupnpd',
    `lease_file=${leaseFile}`,
    'uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b',
    `allow 1-65535 ${net.lan}.0/24 1-65535`,
    'deny 0-65535 0.0.0.0/0 0-65535',
    '',
  ].join('\n');
}
