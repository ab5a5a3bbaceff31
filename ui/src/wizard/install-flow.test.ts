import { describe, expect, it } from 'vitest';
import { translate } from './i18n.js';
import { dataWarning, diskLabel, formatBytes, progressView, refusalText, retryChoice, startRequest, viewOf, type Candidate, type InstallAnswer, type Progress } from './install-flow.js';

const en = (k: Parameters<typeof translate>[1], v?: Record<string, string | number>) => translate('en', k, v);
const de = (k: Parameters<typeof translate>[1], v?: Record<string, string | number>) => translate('de', k, v);
const nvme: Candidate = { name: 'nvme0n1', path: '/dev/nvme0n1', model: 'Samsung SSD 980', sizeBytes: 500_107_862_016, kind: 'nvme', holdsData: false, filesystems: [], refused: null, confirmation: 'Samsung SSD 980' };
const answer = (over: Partial<InstallAnswer>): InstallAnswer => ({ installed: false, skip: false, minBytes: 3e9, candidates: [nvme], progress: null, ...over });
const progress = (over: Partial<Progress>): Progress => ({ phase: 'copying', written: 0, toWrite: 0, verified: 0, toVerify: 0, secondsLeft: null, failure: null, ...over });

describe('install step flow', () => {
  it.each([
    [null, 'skip'],
    [answer({ skip: true, candidates: [] }), 'skip'],
    [answer({ installed: true, skip: true }), 'removeStick'],
    [answer({}), 'choose'],
    [answer({ progress: progress({ phase: 'verifying' }) }), 'running'],
    [answer({ progress: progress({ phase: 'failed', failure: 'writeError' }) }), 'choose'],
  ] as const)('%j → %s', (a, view) => {
    expect(viewOf(a)).toBe(view);
  });

  it('goes back to the choice after a failure, preselecting another offered disk, never starting without the tick', () => {
    const used: Candidate = { ...nvme, name: 'nvme1n1', path: '/dev/nvme1n1', holdsData: true };
    const small: Candidate = { ...nvme, name: 'nvme2n1', path: '/dev/nvme2n1', refused: 'tooSmall' };
    const failed = answer({ candidates: [nvme, used, small], progress: progress({ phase: 'failed', failure: 'writeError', disk: 'nvme0n1' }) });
    expect(viewOf(failed)).toBe('choose');
    expect(retryChoice(failed, 'nvme0n1')).toBe('/dev/nvme1n1');
    // The failed disk is still offered when it is the only one; a refused disk never is.
    expect(retryChoice(answer({ candidates: [small, nvme] }), 'nvme0n1')).toBe('/dev/nvme0n1');
    expect(retryChoice(answer({ candidates: [small] }), 'nvme0n1')).toBe('');
    expect(retryChoice(null, 'nvme0n1')).toBe('');
    expect(startRequest(used, false, 'en')).toBeNull();
  });

  it('starts only with an offered disk whose box is ticked, confirming with the name shown', () => {
    expect(startRequest(nvme, false, 'de')).toBeNull();
    expect(startRequest(undefined, true, 'de')).toBeNull();
    expect(startRequest({ ...nvme, refused: 'tooSmall' }, true, 'de')).toBeNull();
    expect(startRequest(nvme, true, 'de')).toEqual({ disk: '/dev/nvme0n1', confirmation: 'Samsung SSD 980', language: 'de' });
  });

  it('names the disk, warns about data, gives the reason for a refusal', () => {
    expect(diskLabel(en, nvme)).toBe('Samsung SSD 980 (NVMe SSD, 500.1 GB)');
    expect(dataWarning(en, nvme)).toBeNull();
    expect(dataWarning(en, { ...nvme, holdsData: true, filesystems: ['ntfs', 'vfat'] })).toBe('This disk holds data (ntfs, vfat). Installing erases everything on it.');
    expect(dataWarning(de, { ...nvme, holdsData: true })).toBe('Auf dieser Festplatte sind Daten (Partitionen). Die Installation löscht alles darauf.');
    expect(refusalText(en, { ...nvme, refused: 'tooSmall' }, 2_950_000_000)).toBe('Too small: Stube needs at least 3.0 GB.');
    expect(refusalText(en, nvme, 1)).toBeNull();
    expect(formatBytes(64e6)).toBe('64 MB');
  });

  it('shows bytes written and the time left', () => {
    const v = progressView(en, progress({ written: 1.2e9, toWrite: 2.6e9, verified: 0, toVerify: 2.5e9, secondsLeft: 250 }));
    expect(v).toEqual({ value: 1.2e9, max: 5.1e9, written: '1.2 GB of 2.6 GB written', left: 'About 4 min left.', phase: 'Copying the system…' });
    expect(progressView(de, progress({ phase: 'verifying', written: 2.6e9, toWrite: 2.6e9, verified: 2.4e9, toVerify: 2.5e9, secondsLeft: 12 })).left).toBe('Noch etwa 12 s.');
    expect(progressView(en, progress({ phase: 'done', written: 3e9, toWrite: 2.6e9, secondsLeft: 0 }))).toMatchObject({ left: null, value: 2.6e9 });
  });
});
