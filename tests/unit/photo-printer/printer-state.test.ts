// IPP printer-state and printer-state-reasons → what the certificate queue and `devices test` see.
import { describe, expect, it } from 'vitest';
import { mapPrinterState, photoPrinterConditions } from '../../../drivers/photo-printer/photo-printer.js';

describe('mapPrinterState', () => {
  it('idle with no reasons is ready', () => {
    expect(mapPrinterState(3, ['none'])).toMatchObject({ state: 'ready', printerState: 'idle', reasons: [] });
  });
  it('media-empty stops it; a supply running low only warns', () => {
    expect(mapPrinterState(5, ['media-empty-error', 'marker-supply-low-warning'])).toMatchObject({
      state: 'attention',
      blocking: ['media-empty'],
      warnings: ['marker-supply-low'],
    });
    expect(mapPrinterState(3, ['marker-supply-low'])).toMatchObject({
      state: 'ready',
      warnings: ['marker-supply-low'],
    });
    expect(mapPrinterState(3, ['media-empty-report'])).toMatchObject({ state: 'ready' });
    expect(mapPrinterState(3, ['media-jam'])).toMatchObject({ state: 'attention', blocking: ['media-jam'] });
  });
  it('processing is busy, stopped needs attention, and the detail names both', () => {
    expect(mapPrinterState(4, [])).toMatchObject({ state: 'busy' });
    const s = mapPrinterState(5, ['paused']);
    expect(s.state).toBe('attention');
    expect(s.detail).toBe('printer-state stopped; printer-state-reasons paused');
  });
});

describe('photoPrinterConditions', () => {
  it('names what the clerk must do, and nothing for a printer that prints', () => {
    expect(photoPrinterConditions(mapPrinterState(5, ['media-empty-error', 'door-open']))).toEqual([
      'paper-out',
      'cover-open',
    ]);
    expect(photoPrinterConditions(mapPrinterState(3, ['marker-supply-empty-error']))).toEqual([
      'ribbon-fault',
    ]);
    // Stopped without a reason it knows: the printer does not take work, cause unknown.
    expect(photoPrinterConditions(mapPrinterState(5, ['paused']))).toEqual(['stalled']);
    expect(photoPrinterConditions(mapPrinterState(3, ['media-low-warning']))).toEqual([]);
    expect(photoPrinterConditions(mapPrinterState(4, []))).toEqual([]);
  });
});
