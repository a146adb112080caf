import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Conversion } from '@sas/contracts';

/**
 * Rewrites a conversion's Confluent frame (magic byte, schema id, Avro body) under the SAME
 * schema id it was written with, so every reader decodes it as before: an erasure scrubs a
 * field of a stored frame (ledger, held refunds) without changing its schema or its meaning.
 */
export interface FrameRewriter {
  /** The new frame, or null when `change` leaves the conversion as it is. */
  rewrite(frame: Buffer, change: (c: Conversion) => Conversion | null): Promise<Buffer | null>;
}

export const createFrameRewriter = (registryUrl: string): FrameRewriter => {
  const registry = new SchemaRegistry({ host: registryUrl });
  return {
    rewrite: async (frame, change) => {
      if (frame.length < 5 || frame[0] !== 0) throw new Error('not a Confluent-framed record (magic byte 0 and a schema id)');
      const schemaId = frame.readInt32BE(1);
      const decoded = (await registry.decode(frame)) as Conversion;
      const changed = change(decoded);
      return changed === null ? null : registry.encode(schemaId, changed);
    },
  };
};
