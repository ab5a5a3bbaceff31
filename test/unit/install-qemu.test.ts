import { describe, expect, it } from 'vitest';
import { qemuArgs, type QemuInput } from '../../image/plan/qemu.js';

const base: QemuInput = { disk: 'd.img', ovmfCode: 'c.fd', ovmfVars: 'v.fd', accel: 'tcg', hostPort: 1, guestPort: 443, serial: { file: 's.log' }, memoryMiB: 2048, cpus: 2 };
const after = (args: string[], flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1] ?? ''] : []));

describe('qemu disks for the install test', () => {
  it('attaches the boot disk by virtio unless told otherwise', () => {
    expect(after(qemuArgs(base), '-device')).toContain('virtio-blk-pci,drive=disk0,bootindex=1');
  });

  it('attaches the image as a removable USB stick on xHCI, with extra NVMe disks after it in boot order', () => {
    const args = qemuArgs({ ...base, diskBus: 'usb', nvme: [{ file: 'n.img', serial: 'S1' }, { file: 'm.img', serial: 'S2' }] });
    const devices = after(args, '-device');
    expect(devices).toContain('qemu-xhci,id=xhci');
    expect(devices).toContain('usb-storage,bus=xhci.0,drive=disk0,removable=on,bootindex=1');
    expect(devices).toContain('nvme,drive=nvme0,serial=S1,bootindex=2');
    expect(devices).toContain('nvme,drive=nvme1,serial=S2,bootindex=3');
    expect(after(args, '-drive')).toContain('if=none,id=nvme1,format=raw,file=m.img');
    expect(devices.some((d) => d.startsWith('virtio-blk'))).toBe(false);
  });

  it('attaches a failing NVMe disk: writes touching one sector fail with EIO, reads work', () => {
    const args = qemuArgs({ ...base, diskBus: 'usb', nvme: [{ file: 'n.img', serial: 'S1' }, { file: '/w/bad.img', serial: 'BAD', failWritesAtSector: 131072 }] });
    const drives = after(args, '-drive');
    expect(drives).toContain('if=none,id=nvme0,format=raw,file=n.img');
    const bad = drives.find((d) => d.includes('id=nvme1,')) ?? '';
    expect(bad.split(',')).toEqual([
      'if=none', 'id=nvme1', 'format=raw', 'file.driver=blkdebug', 'file.image.filename=/w/bad.img',
      'file.inject-error.0.event=none', 'file.inject-error.0.iotype=write', 'file.inject-error.0.errno=5', 'file.inject-error.0.sector=131072',
    ]);
    expect(after(args, '-device')).toContain('nvme,drive=nvme1,serial=BAD,bootindex=3');
    expect(() => qemuArgs({ ...base, nvme: [{ file: 'b.img', serial: 'B', failWritesAtSector: -1 }] })).toThrow(RangeError);
  });

  it('boots an NVMe disk alone (the stick pulled)', () => {
    expect(after(qemuArgs({ ...base, diskBus: 'nvme', diskSerial: 'S1' }), '-device')).toContain('nvme,drive=disk0,serial=S1,bootindex=1');
  });

  it('adds update sticks on one xHCI controller, shared with a USB boot stick, not bootable', () => {
    const virtio = after(qemuArgs({ ...base, usbSticks: [{ file: 'u.img' }] }), '-device');
    expect(virtio.filter((d) => d === 'qemu-xhci,id=xhci')).toHaveLength(1);
    expect(virtio).toContain('usb-storage,bus=xhci.0,drive=stick0,removable=on');
    const usbBoot = qemuArgs({ ...base, diskBus: 'usb', usbSticks: [{ file: 'u.img' }] });
    expect(after(usbBoot, '-device').filter((d) => d === 'qemu-xhci,id=xhci')).toHaveLength(1);
    expect(after(usbBoot, '-drive')).toContain('if=none,id=stick0,format=raw,file=u.img');
  });
});
