// The five answers of a 政务服务"好差评" rating pad, as numbers the rest of the box stores and counts.
// 5 is the best: the national evaluation system scores 非常满意 highest.

export const RATINGS = [5, 4, 3, 2, 1] as const;
export type Rating = (typeof RATINGS)[number];

export interface RatingLabel {
  zh: string;
  en: string;
}

export const RATING_LABELS: Readonly<Record<Rating, RatingLabel>> = {
  5: { zh: '非常满意', en: 'Very satisfied' },
  4: { zh: '满意', en: 'Satisfied' },
  3: { zh: '基本满意', en: 'Basically satisfied' },
  2: { zh: '不满意', en: 'Dissatisfied' },
  1: { zh: '非常不满意', en: 'Very dissatisfied' },
};

export function isRating(value: unknown): value is Rating {
  return typeof value === 'number' && (RATINGS as readonly number[]).includes(value);
}

/** Throws unless every value of a key map is a rating (a map from config is checked when the pad is built). */
export function checkKeyMap(keys: Readonly<Record<string, unknown>>): void {
  for (const [key, rating] of Object.entries(keys)) {
    if (!isRating(rating)) throw new RangeError(`key ${key}: ${String(rating)} is not a rating 1..5`);
  }
}
