import { Cluster } from 'ioredis';

/**
 * A Cluster whose commands time out as a standalone client's do. ioredis starts a command's
 * `commandTimeout` only when a node connection takes it: while every node is gone (the cluster
 * reconnecting), commands wait in the cluster's own queue for as long as the outage lasts, and
 * requests hang instead of getting their 503. Here the clock starts when the command is issued,
 * and redirections (MOVED, TRYAGAIN) count against the same budget.
 */
export class CommandTimeoutCluster extends Cluster {
  override sendCommand(...args: Parameters<Cluster['sendCommand']>): unknown {
    const timeout = this.options.redisOptions?.commandTimeout;
    if (typeof timeout === 'number') args[0].setTimeout(timeout);
    return super.sendCommand(...args);
  }
}
