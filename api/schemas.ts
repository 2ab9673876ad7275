/** Shared request/response schemas (TypeBox → JSON Schema, as Fastify validates and documents them). */
import { Kind, Type, TypeRegistry, type TUnsafe } from '@sinclair/typebox';

export const ErrorResponse = Type.Object({
  error: Type.String(),
  code: Type.Optional(Type.String()),
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), { description: 'what the message names (field, id…), for a translated message' })),
});

export const DevEui = Type.String({ pattern: '^[0-9a-fA-F]{16}$', description: 'DevEUI, 16 hex digits' });

/**
 * A string from a fixed list, as JSON Schema `enum`: a wrong value is refused naming the
 * allowed ones ("format: must be one of json, geojson"), where a union of literals
 * only said "must be equal to constant", and OpenAPI lists them.
 */
export function StringEnum<const T extends readonly string[]>(values: T, options: { default?: T[number]; description?: string } = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ [Kind]: 'StringEnum', type: 'string', enum: [...values], ...options });
}
// TypeBox's own checker (the CSV import compiles the registry schemas) learns the kind, as its docs show for string enums.
if (!TypeRegistry.Has('StringEnum')) {
  TypeRegistry.Set<{ enum: string[] }>('StringEnum', (schema, value) => typeof value === 'string' && schema.enum.includes(value));
}
