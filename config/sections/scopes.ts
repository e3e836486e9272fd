// Token scopes (DESIGN.md). `admin` implies every other scope.
import { StringEnum } from '../schema-kit.js';

export const SCOPES = ['read', 'print', 'face', 'enroll', 'seal', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];
export const ScopeSchema = StringEnum(SCOPES, { description: 'Token scope' });
