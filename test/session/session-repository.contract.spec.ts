import { afterAll, describe } from '@jest/globals';
import { repositoryContract } from './support/repository-contract.js';
import { inMemoryImplementation, redisImplementation, type RepositoryImplementation } from './support/repositories.js';

/** The SessionRepository contract, run against both implementations (Redis Cluster: session-repository.cluster.spec.ts). */
const implementations: RepositoryImplementation[] = [redisImplementation(), inMemoryImplementation()];

afterAll(async () => {
  await Promise.all(implementations.map((implementation) => implementation.close()));
});

describe.each(implementations)('SessionRepository contract: $name', repositoryContract);
