// The box itself: its name in the fleet and its site.
import { Type } from '@sinclair/typebox';
import { Identifier } from '../schema-kit.js';

export const BoxSection = Type.Object(
  {
    id: Identifier,
    site: Type.String({
      default: '',
      maxLength: 200,
      description: 'Human name of the site (village hall)',
    }),
  },
  { additionalProperties: false },
);
