/** Shared request/response schemas (TypeBox → JSON Schema, as Fastify validates and documents them). */
import { Type } from '@sinclair/typebox';

export const ErrorResponse = Type.Object({
  error: Type.String(),
  code: Type.Optional(Type.String()),
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), { description: 'what the message names (field, id…), for a translated message' })),
});

export const DevEui = Type.String({ pattern: '^[0-9a-fA-F]{16}$', description: 'DevEUI, 16 hex digits' });
