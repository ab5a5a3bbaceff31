// The qemu command line for trying or testing the image: UEFI (OVMF), virtio disk and network with the
// box's HTTPS port forwarded to the host's loopback, KVM when it works and software emulation otherwise.
export interface QemuInput {
  readonly disk: string;
  readonly ovmfCode: string;
  /** A writable copy of OVMF's variable store, one per VM. */
  readonly ovmfVars: string;
  /** kvm: KVM with software emulation as fallback; tcg: software emulation only. */
  readonly accel: 'kvm' | 'tcg';
  readonly hostPort: number;
  readonly guestPort: number;
  /** Serial console: a file to log to, or "stdio" for an interactive terminal. */
  readonly serial: { readonly file: string } | 'stdio';
  readonly memoryMiB: number;
  readonly cpus: number;
  /** How the boot disk is attached: virtio (default), a USB stick on an xHCI controller, or NVMe. */
  readonly diskBus?: 'virtio' | 'usb' | 'nvme';
  /** Serial number of the boot disk when it is NVMe. */
  readonly diskSerial?: string;
  /** Extra NVMe disks (the box's internal disk in the install test). */
  readonly nvme?: readonly NvmeDisk[];
  /** Extra USB sticks (an update stick in the update test), on the xHCI controller. */
  readonly usbSticks?: readonly { readonly file: string }[];
}

export interface NvmeDisk {
  readonly file: string;
  readonly serial: string;
  /**
   * A failing disk for tests: every write that touches this sector (512 bytes each) fails with EIO
   * inside the guest (qemu's blkdebug driver); reads and every other write work.
   */
  readonly failWritesAtSector?: number;
}

/** The -drive value of one extra NVMe disk: a raw file, or the raw file behind blkdebug's write error. */
export function nvmeDrive(d: NvmeDisk, id: string): string {
  if (d.failWritesAtSector === undefined) return `if=none,id=${id},format=raw,file=${d.file}`;
  if (!Number.isSafeInteger(d.failWritesAtSector) || d.failWritesAtSector < 0) throw new RangeError('failWritesAtSector: a sector number');
  const rule = 'file.inject-error.0';
  return [`if=none,id=${id},format=raw,file.driver=blkdebug,file.image.filename=${d.file}`,
    // event "none": the rule holds from the start; iotype write: reading the disk keeps working.
    `${rule}.event=none,${rule}.iotype=write,${rule}.errno=5,${rule}.sector=${d.failWritesAtSector}`].join(',');
}

export function qemuArgs(input: QemuInput): string[] {
  const accel = input.accel === 'kvm' ? ['-accel', 'kvm', '-accel', 'tcg'] : ['-accel', 'tcg,thread=multi'];
  return [
    '-name', 'stube',
    '-machine', 'q35',
    ...accel,
    '-cpu', 'max',
    '-smp', String(input.cpus),
    '-m', String(input.memoryMiB),
    '-nodefaults',
    '-display', 'none',
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${input.ovmfCode}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${input.ovmfVars}`,
    '-drive', `if=none,id=disk0,format=raw,file=${input.disk}`,
    ...(input.diskBus === 'usb'
      ? ['-device', 'qemu-xhci,id=xhci', '-device', 'usb-storage,bus=xhci.0,drive=disk0,removable=on,bootindex=1']
      : input.diskBus === 'nvme'
        ? ['-device', `nvme,drive=disk0,serial=${input.diskSerial ?? 'STUBE0'},bootindex=1`]
        : ['-device', 'virtio-blk-pci,drive=disk0,bootindex=1']),
    ...(input.nvme ?? []).flatMap((d, i) => [
      '-drive', nvmeDrive(d, `nvme${i}`),
      '-device', `nvme,drive=nvme${i},serial=${d.serial},bootindex=${i + 2}`,
    ]),
    // One xHCI controller for the USB boot stick and any extra stick.
    ...(input.diskBus !== 'usb' && (input.usbSticks ?? []).length > 0 ? ['-device', 'qemu-xhci,id=xhci'] : []),
    ...(input.usbSticks ?? []).flatMap((d, i) => [
      '-drive', `if=none,id=stick${i},format=raw,file=${d.file}`,
      '-device', `usb-storage,bus=xhci.0,drive=stick${i},removable=on`,
    ]),
    '-netdev', `user,id=net0,hostfwd=tcp:127.0.0.1:${input.hostPort}-:${input.guestPort}`,
    '-device', 'virtio-net-pci,netdev=net0',
    '-device', 'virtio-rng-pci',
    ...(input.serial === 'stdio' ? ['-serial', 'mon:stdio'] : ['-serial', `file:${input.serial.file}`, '-monitor', 'none']),
  ];
}

/** KVM is worth trying when /dev/kvm opens for reading and writing; otherwise software emulation. */
export function chooseAccel(kvmUsable: boolean, override: string | undefined): 'kvm' | 'tcg' {
  if (override === 'kvm' || override === 'tcg') return override;
  return kvmUsable ? 'kvm' : 'tcg';
}

export const OVMF_CODE_CANDIDATES = ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_CODE.fd'];
export const OVMF_VARS_CANDIDATES = ['/usr/share/OVMF/OVMF_VARS_4M.fd', '/usr/share/OVMF/OVMF_VARS.fd'];
