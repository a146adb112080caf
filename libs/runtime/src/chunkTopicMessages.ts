import type { Message, TopicMessages } from 'kafkajs';

const sizeOf = (m: Message): number =>
  (m.key == null ? 0 : Buffer.byteLength(m.key)) + (m.value == null ? 0 : Buffer.byteLength(m.value));

/**
 * Split a sendBatch into sends of at most `maxBytes` of keys and values each, in order, so no
 * partition's record batch in one produce request can pass the broker's message.max.bytes
 * (1 MiB by default): a batch of large dead letters refused as MESSAGE_TOO_LARGE would be
 * retried forever and stall its partition. A message larger than `maxBytes` goes alone.
 */
export const chunkTopicMessages = (batch: readonly TopicMessages[], maxBytes: number): TopicMessages[][] => {
  const chunks: TopicMessages[][] = [];
  let current: { topic: string; messages: Message[] }[] = [];
  let bytes = 0;
  for (const { topic, messages } of batch) {
    for (const m of messages) {
      const n = sizeOf(m);
      if (bytes > 0 && bytes + n > maxBytes) {
        chunks.push(current);
        current = [];
        bytes = 0;
      }
      const last = current.at(-1);
      if (last && last.topic === topic) last.messages.push(m);
      else current.push({ topic, messages: [m] });
      bytes += n;
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
};
