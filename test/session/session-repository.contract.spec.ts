import { afterAll, describe } from '@jest/globals';
import { repositoryContract } from './support/repository-contract.js';
import { auditedImplementation, inMemoryImplementation, redisImplementation, type RepositoryImplementation } from './support/repositories.js';

/**
 * The SessionRepository contract, run against both implementations and a user's own decorator of
 * the in-memory one (support/audited-session-repository.ts). Redis is the run's shared one:
 * standalone, or a Cluster under `npm run test:cluster` (and a private Cluster: session-repository.cluster.spec.ts).
 */
const implementations: RepositoryImplementation[] = [redisImplementation(), inMemoryImplementation(), auditedImplementation()];

afterAll(async () => {
  await Promise.all(implementations.map((implementation) => implementation.close()));
});

describe.each(implementations)('SessionRepository contract: $name', repositoryContract);
