// Token scopes (DESIGN.md). `admin` implies every other scope. `idcard` receives ID card reads (residents'
// personal data) on the event stream.
import { StringEnum } from '../schema-kit.js';

export const SCOPES = ['read', 'print', 'face', 'enroll', 'seal', 'idcard', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];
export const ScopeSchema = StringEnum(SCOPES, { description: 'Token scope' });
