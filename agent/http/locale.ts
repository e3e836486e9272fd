// Which language a request's texts come in: its Accept-Language, else the box's `box.locale`.
import type { FastifyRequest } from 'fastify';
import { negotiateLocale, type Locale } from '../messages/locale.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** `box.locale`: the language of texts for a request that asks for none. */
    boxLocale: Locale;
  }
}

export function requestLocale(request: FastifyRequest): Locale {
  return negotiateLocale(request.headers['accept-language'], request.server.boxLocale ?? 'zh-CN');
}
