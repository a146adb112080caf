import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { conversionAvroSchema, valueSubject, type Conversion } from '@sas/contracts';

/**
 * Conversion topics are Avro in the Confluent wire format (magic byte, schema id, body).
 * Producers register the schema under `<topic>-value`; consumers decode with the id on the wire.
 */
export interface ConversionCodec {
  encode(topic: string, c: Conversion): Promise<Buffer>;
  decode(buf: Buffer): Promise<Conversion>;
}

export const createConversionCodec = (registryUrl: string): ConversionCodec => {
  const registry = new SchemaRegistry({ host: registryUrl });
  const ids = new Map<string, Promise<number>>();
  const idFor = (topic: string): Promise<number> => {
    let id = ids.get(topic);
    if (!id) {
      id = registry
        .register(
          { type: SchemaType.AVRO, schema: JSON.stringify(conversionAvroSchema) },
          { subject: valueSubject(topic) },
        )
        .then((r) => r.id);
      id.catch(() => ids.delete(topic)); // a failed registration is retried on the next encode
      ids.set(topic, id);
    }
    return id;
  };
  return {
    encode: async (topic, c) => registry.encode(await idFor(topic), c),
    decode: async (buf) => (await registry.decode(buf)) as Conversion,
  };
};
