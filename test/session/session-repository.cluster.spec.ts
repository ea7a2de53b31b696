import { afterAll, describe } from '@jest/globals';
import { repositoryContract } from './support/repository-contract.js';
import { redisClusterImplementation } from './support/repositories.js';

/** The same contract on a Redis Cluster, where a changed id moves the session across slots. */
const cluster = redisClusterImplementation();

afterAll(() => cluster.close());

describe.each([cluster])('SessionRepository contract: $name', repositoryContract);
