import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import type { StackEndpoints } from '@sas/testkit';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Endpoints given in the environment win: point the tests at any Kafka/PostgreSQL/registry. */
const fromEnvironment = (): StackEndpoints | null => {
  const { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL, STRIPE_API_BASE } = process.env;
  if (!KAFKA_BROKERS || !SCHEMA_REGISTRY_URL || !DATABASE_URL) return null;
  return { kafkaBrokers: KAFKA_BROKERS, schemaRegistryUrl: SCHEMA_REGISTRY_URL, databaseUrl: DATABASE_URL, stripeApiBase: STRIPE_API_BASE ?? 'http://127.0.0.1:12111', source: 'environment', kafkaLibs: process.env.KAFKA_LIBS ?? null };
};

const dockerReachable = (): Promise<boolean> => {
  const socketPath = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice(7) : '/var/run/docker.sock';
  if (!existsSync(socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 2_000 }, (res) => resolve(res.statusCode === 200));
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
    req.end();
  });
};

/** With a Docker engine: the same services from docker-compose.yml, through testcontainers. */
const withTestcontainers = async (): Promise<{ endpoints: StackEndpoints; stop: () => Promise<void> }> => {
  const { DockerComposeEnvironment, Wait } = await import('testcontainers');
  const env = await new DockerComposeEnvironment(repoRoot, 'docker-compose.yml')
    .withWaitStrategy('kafka-1', Wait.forHealthCheck())
    .withWaitStrategy('postgres-1', Wait.forHealthCheck())
    .withWaitStrategy('apicurio-1', Wait.forHttp('/apis/ccompat/v7/subjects', 8080))
    .withWaitStrategy('stripe-mock-1', Wait.forListeningPorts())
    .up();
  return {
    endpoints: { kafkaBrokers: '127.0.0.1:9092', schemaRegistryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7', databaseUrl: 'postgres://postgres:postgres@127.0.0.1:5432/affiliate', stripeApiBase: 'http://127.0.0.1:12111', source: 'testcontainers', kafkaLibs: null },
    stop: async () => { await env.down(); },
  };
};

/** Without Docker: the project's own native stack (scripts/stack.sh), started if not running. */
const withNativeStack = (): StackEndpoints => {
  execFileSync('bash', [`${repoRoot}/scripts/stack.sh`, 'up'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const out = execFileSync('bash', [`${repoRoot}/scripts/stack.sh`, 'env'], { encoding: 'utf8' });
  const vars = Object.fromEntries([...out.matchAll(/^(?:export )?([A-Z_]+)=["']?([^"'\n]*)["']?$/gm)].map((m) => [m[1], m[2]]));
  const need = (k: string) => {
    const v = vars[k];
    if (!v) throw new Error(`scripts/stack.sh env did not print ${k}`);
    return v;
  };
  return { kafkaBrokers: need('KAFKA_BROKERS'), schemaRegistryUrl: need('SCHEMA_REGISTRY_URL'), databaseUrl: need('DATABASE_URL'), stripeApiBase: need('STRIPE_API_BASE'), source: 'native', kafkaLibs: vars.KAFKA_LIBS ?? null };
};

export default async function setup(project: TestProject) {
  // Tests that run services and the sas CLI as processes start the esbuild bundles (plain
  // JavaScript, as in production, and seconds faster to start than TypeScript through tsx).
  execFileSync(process.execPath, [`${repoRoot}/scripts/build.mjs`], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  const given = fromEnvironment();
  if (given) {
    project.provide('stack', given);
    return;
  }
  if (await dockerReachable()) {
    const { endpoints, stop } = await withTestcontainers();
    project.provide('stack', endpoints);
    return stop;
  }
  // The native stack is left running after the tests: a second run starts in seconds.
  project.provide('stack', withNativeStack());
}
