// The box itself: its name in the fleet, its site, and the language its texts default to.
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
    locale: Type.Union([Type.Literal('zh-CN'), Type.Literal('en')], {
      default: 'zh-CN',
      description:
        'Language of clerk-visible texts (problems, hints, reasons) when a request asks for none (Accept-Language)',
    }),
  },
  { additionalProperties: false },
);
