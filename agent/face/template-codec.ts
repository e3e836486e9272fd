// A template as callers see it (verify against `{"template": …}`): `bxt1.<modelId>.<base64 float32 LE>`.
// The model id travels with the vector, so a template from another model is refused, never mis-scored.

const PREFIX = 'bxt1';

export class TemplateFormatError extends Error {
  override name = 'TemplateFormatError';
}

export function encodeTemplate(modelId: string, embedding: Float32Array): string {
  const bytes = Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength);
  return `${PREFIX}.${modelId}.${bytes.toString('base64')}`;
}

export function decodeTemplate(text: string): { modelId: string; embedding: Float32Array } {
  const parts = text.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX || !parts[1]) {
    throw new TemplateFormatError(`a template looks like "${PREFIX}.<modelId>.<base64>"`);
  }
  const bytes = Buffer.from(parts[2]!, 'base64');
  if (bytes.length === 0 || bytes.length % 4 !== 0)
    throw new TemplateFormatError('the template vector is malformed');
  const embedding = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  if (!embedding.every(Number.isFinite))
    throw new TemplateFormatError('the template vector holds non-numbers');
  return { modelId: parts[1], embedding };
}
