// Test hosts in network namespaces. Janus skips loopback when it gathers ICE candidates, so a test runs
// Janus in a namespace of its own, joined to the host by a veth pair: media then flows between the
// host's browsers and that namespace, and never leaves the machine.
import { execFileSync } from 'node:child_process';

export interface TestNetns {
  name: string;
  /** Host side of the veth pair. */
  hostIf: string;
  hostIp: string;
  /** Namespace side. */
  nsIf: string;
  nsIp: string;
  /** Runs a command inside the namespace (argv prefix for spawn). */
  exec: string[];
  destroy(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Picks a /24 from 10.231.0.0/16 that no interface uses yet. */
function freeSubnet(): number {
  const used = execFileSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' });
  for (let i = 0; i < 50; i++) {
    const n = 1 + Math.floor(Math.random() * 250);
    if (!used.includes(`10.231.${n}.`)) return n;
  }
  throw new Error('no free test subnet in 10.231.0.0/16');
}

export function createNetns(tag = 'st'): TestNetns {
  if (process.getuid?.() !== 0) throw new Error('network namespace tests need root');
  const n = freeSubnet();
  const id = `${tag}${process.pid % 10000}${n}`;
  const name = `stube-${id}`;
  const hostIf = `vh${id}`.slice(0, 15);
  const nsIf = `vn${id}`.slice(0, 15);
  const hostIp = `10.231.${n}.1`;
  const nsIp = `10.231.${n}.2`;
  ip('netns', 'add', name);
  try {
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    ip('link', 'set', nsIf, 'netns', name);
    ip('addr', 'add', `${hostIp}/24`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${nsIp}/24`, 'dev', nsIf);
    ip('netns', 'exec', name, 'ip', 'link', 'set', nsIf, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
    // Janus finds its own address by routing towards the internet; without a route it falls back to
    // 127.0.0.1. The host does not forward, so nothing leaves the machine through this route.
    ip('netns', 'exec', name, 'ip', 'route', 'add', 'default', 'via', hostIp);
  } catch (err) {
    cleanup(name, hostIf);
    throw err;
  }
  let destroyed = false;
  return {
    name,
    hostIf,
    hostIp,
    nsIf,
    nsIp,
    exec: ['ip', 'netns', 'exec', name],
    destroy() {
      if (destroyed) return;
      destroyed = true;
      cleanup(name, hostIf);
    },
  };
}

function cleanup(name: string, hostIf: string): void {
  for (const args of [['link', 'del', hostIf], ['netns', 'del', name]]) {
    try {
      ip(...args);
    } catch {
      // Already gone: deleting the namespace removes its end of the pair, and that removes ours.
    }
  }
}
