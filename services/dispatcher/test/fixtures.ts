import { createHash } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { conversionKey, NO_SOURCED_CLICKS, topicName, type Conversion, type DeadLetter, type DispatchOutcome } from '@sas/contracts';
import { createConversionCodec, type ConversionCodec } from '@sas/runtime';

let seq = 0;
export const nextId = (prefix: string): string => `${prefix}_${Date.now().toString(36)}${(seq++).toString(36)}${Math.random().toString(36).slice(2, 7)}`;

export const sha256 = (s: string): string => createHash('sha256').update(s.trim().toLowerCase()).digest('hex');

/** A conversion as the mapper writes it, with defaults each case overrides. */
export const conversion = (o: Partial<Conversion> = {}): Conversion => {
  const now = Date.now();
  return {
    conversionId: nextId('cnv'), kind: 'SALE_FIRST', saleReason: 'subscription_create', sourceEventIds: [nextId('evt')],
    integrationId: 'int_x', stripeAccount: null, livemode: false, occurredAt: now - 60_000, receivedAt: now - 1_000,
    orderId: nextId('in'), customerId: nextId('cus'), subscriptionId: nextId('sub'), chargeId: null,
    attribution: { ...NO_SOURCED_CLICKS, clickId: nextId('clk'), partnerKey: 'pk_partner', customerKey: null, promoCode: null, emailSha256: sha256('jane@example.com'), productKey: null },
    attributed: true, currency: 'USD', amountMinor: 4_900, taxMinor: 0, discountMinor: 0,
    lineItems: [{ sku: 'price_1', description: 'Pro plan', productId: 'prod_1', priceId: 'price_1', quantity: 1, unitAmountMinor: 4_900, amountMinor: 4_900 }],
    notBefore: now - 1_000, refundId: null, orderAmountMinor: null, refundedTotalMinor: null, saleNetMinor: null,
    ...o,
  };
};

/** Produce conversions the way the mapper and the scheduler do: Avro through the registry, keyed per the contract. */
export const createConversionProducer = async (p: { brokers: string; registryUrl: string; prefix: string }) => {
  const kafka = new Kafka({ brokers: [p.brokers], logLevel: logLevel.NOTHING, clientId: 'fixtures' });
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const codec: ConversionCodec = createConversionCodec(p.registryUrl);
  return {
    send: async (cs: readonly Conversion[], topic: 'conversions' | 'conversionsDue' = 'conversions') => {
      const name = topicName(topic, p.prefix);
      const messages = await Promise.all(cs.map(async (c) => ({
        key: conversionKey({ account: c.stripeAccount, customerId: c.customerId, subscriptionId: c.subscriptionId, orderId: c.orderId }),
        value: await codec.encode(name, c),
      })));
      for (let i = 0; i < messages.length; i += 500) await producer.send({ topic: name, acks: -1, messages: messages.slice(i, i + 500) });
    },
    close: () => producer.disconnect(),
  };
};

/** Everything written to the outcome and dead-letter topics, as it arrives. */
export const watchDispatch = async (p: { brokers: string; prefix: string }) => {
  const kafka = new Kafka({ brokers: [p.brokers], logLevel: logLevel.NOTHING, clientId: 'watch' });
  const outcomes: DispatchOutcome[] = [];
  const deadLetters: DeadLetter[] = [];
  const consumer = kafka.consumer({ groupId: nextId('watch'), sessionTimeout: 10_000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topicName('dispatchOutcomes', p.prefix), topicName('dispatchDeadLetters', p.prefix)], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const v = JSON.parse(message.value!.toString());
      if (topic.endsWith('dispatch.outcomes.v1')) outcomes.push(v);
      else deadLetters.push(v);
    },
  });
  return { outcomes, deadLetters, close: () => consumer.disconnect() };
};
