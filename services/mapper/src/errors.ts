/** The mapper's shell errors. A retriable one is thrown out of eachBatch: Kafka redelivers the batch. */
export class MapperError extends Error {
  override readonly name = 'MapperError';
  constructor(message: string, readonly retriable: boolean, opts?: ErrorOptions) {
    super(message, opts);
  }
}
