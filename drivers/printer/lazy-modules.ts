// sharp and bwip-js take a few hundred ms to load; the daemon loads them on the first print, not at start-up.
import type Sharp from 'sharp';
import type BwipJs from 'bwip-js';

let sharpModule: Promise<typeof Sharp> | undefined;
let bwipModule: Promise<typeof BwipJs> | undefined;

export function loadSharp(): Promise<typeof Sharp> {
  sharpModule ??= import('sharp').then((m) => m.default);
  return sharpModule;
}

export function loadBwip(): Promise<typeof BwipJs> {
  bwipModule ??= import('bwip-js').then((m) => m.default);
  return bwipModule;
}
