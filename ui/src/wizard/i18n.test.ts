import { describe, expect, it } from 'vitest';
import { MESSAGES, pickLang, translate } from './i18n.js';

describe('wizard i18n', () => {
  it('has every English text in German too, with the same placeholders', () => {
    const en = MESSAGES.en;
    const de = MESSAGES.de;
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
    for (const k of Object.keys(en) as (keyof typeof en)[]) {
      const holes = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
      expect(holes(de[k]), k).toEqual(holes(en[k]));
      expect(de[k].trim(), k).not.toBe('');
    }
  });

  it('fills placeholders and picks German for German browsers', () => {
    expect(translate('de', 'progress', { n: 2, total: 8 })).toBe('Schritt 2 von 8');
    expect(translate('en', 'code.limited', { s: 30 })).toBe('Too many wrong codes. Wait 30 seconds, then try again.');
    expect(pickLang(['de-CH', 'en'])).toBe('de');
    expect(pickLang(['fr-FR', 'en-GB'])).toBe('en');
    expect(pickLang([])).toBe('en');
  });
});
