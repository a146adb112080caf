import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './waitFor.js';

export const freePort = (): Promise<number> =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

/** The stack's log4j2 configuration (Kafka 4.x logs through log4j2): it keeps "Kafka Server started" at INFO. */
const LOG4J2_CONFIG = fileURLToPath(new URL('../../../stack/kafka/log4j2.properties', import.meta.url));

/**
 * A throwaway single-node Kafka broker of its own (own ports, own data dir), from the jars the
 * native stack fetched, for tests that kill and restart a broker without disturbing the
 * shared one. Its data survives kill and restart, as on a real machine.
 */
export const startPrivateKafka = async (kafkaLibs: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'private-kafka-'));
  const port = await freePort();
  const controllerPort = await freePort();
  const conf = join(dir, 'server.properties');
  writeFileSync(conf, [
    'process.roles=broker,controller', 'node.id=1', `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT', 'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER', `log.dirs=${join(dir, 'data')}`, 'num.partitions=3', 'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1', 'offsets.topic.num.partitions=3', 'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1', 'transaction.state.log.num.partitions=3', 'min.insync.replicas=1', 'group.initial.rebalance.delay.ms=0',
  ].join('\n'));
  const cp = `${kafkaLibs}/*`;
  const log4j = `-Dlog4j2.configurationFile=${LOG4J2_CONFIG}`;
  const clusterId = execFileSync('java', [log4j, '-cp', cp, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync('java', [log4j, '-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', conf], { stdio: 'ignore' });

  let proc: ChildProcess | null = null;
  let starts = 0;
  const stopProc = async () => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((r) => { p.once('exit', () => r()); p.kill('SIGKILL'); });
  };
  const start = async () => {
    const logFile = join(dir, `kafka-${++starts}.log`);
    const out = openSync(logFile, 'a');
    proc = spawn('java', ['-Xms128m', '-Xmx384m', '-XX:+UseSerialGC', log4j, '-cp', cp, 'kafka.Kafka', conf], { stdio: ['ignore', out, out] });
    closeSync(out);
    await waitFor(() => (readFileSync(logFile, 'utf8').includes('Kafka Server started') ? true : undefined), {
      timeoutMs: 60_000, intervalMs: 200, what: `private Kafka to start (log ${logFile})`,
    });
  };
  await start();
  return {
    brokers: `127.0.0.1:${port}`,
    /** SIGKILL: no clean shutdown, as when a machine dies. */
    kill: stopProc,
    restart: start,
    close: async () => {
      await stopProc();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
export type PrivateKafka = Awaited<ReturnType<typeof startPrivateKafka>>;
