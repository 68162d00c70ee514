/**
 * Edge replicas on the Deno server (ADR 0014), started after the services are built and before
 * the app serves: an `edge` process appends usage to its replica's outbox and pushes it; a
 * `billing` process with a replica pulls the sync server and ingests what the edge nodes pushed.
 * Nothing happens in the default role `all`.
 *
 * @module
 */
import type { Config } from "../../config.ts";
import type { Services } from "../../context.ts";
import { openReplica } from "../../storage/turso_sync.ts";
import { EdgeOutbox } from "../../usage/edge_outbox.ts";
import { ReplicaIngester } from "../../usage/replica_ingest.ts";
import { ingestedOnPrimary } from "../../usage/edge_prune.ts";

/** What {@link startEdgeReplica} started. */
export interface EdgeReplicaHandle {
  /** One line for the start-up message. */
  description: string;
  /** Stops the background loop (an edge node tries one last push) and closes the replica. */
  stop(): Promise<void>;
}

/** Whether a file exists. */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Opens the replica of `config.edgeReplica` for the process's role and starts its loop; sets
 * `services.usageSink` on an edge node.
 *
 * @returns null when the role needs no replica
 * @throws {import("../../storage/turso_sync.ts").ReplicaUnavailable} when the client is missing,
 *   or a new replica cannot reach the sync server to bootstrap
 */
export async function startEdgeReplica(
  config: Config,
  services: Services,
): Promise<EdgeReplicaHandle | null> {
  const replica = config.edgeReplica;
  if (!replica || config.role === "all" || config.role === undefined) return null;
  const slash = replica.path.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(replica.path.slice(0, slash), { recursive: true });
  const fresh = !(await exists(replica.path));
  const db = await openReplica({
    path: replica.path,
    url: replica.syncUrl,
    authToken: replica.authToken,
    pushOperationsThreshold: replica.pushBatch,
    clientName: config.role,
  });
  if (config.role === "edge") {
    const outbox = await EdgeOutbox.open(db, fresh, {
      path: replica.path,
      pushIntervalMs: replica.pushIntervalMs,
      pushBackoffMaxMs: replica.pushBackoffMaxMs,
      log: services.log,
      // Pruned once pushed and final on the billing side, which this node reads as its primary.
      ingested: ingestedOnPrimary(services.database.db),
      retentionMs: replica.outboxRetentionMs,
    });
    services.usageSink = outbox;
    services.metrics?.trackEdgeBacklog(() => outbox.backlog());
    outbox.start();
    return {
      description: `usage appended to the edge replica ${replica.path} (node ${outbox.nodeId}), pushed to ${
        redacted(replica.syncUrl)
      }`,
      stop: () => outbox.stop(),
    };
  }
  const ingester = await ReplicaIngester.open(db, services, {
    path: replica.path,
    pullIntervalMs: replica.pullIntervalMs,
    backoffMaxMs: replica.pushBackoffMaxMs,
    batch: replica.ingestBatch,
  });
  ingester.start();
  return {
    description: `ingesting edge replicas pulled from ${redacted(replica.syncUrl)} into ${replica.path}`,
    stop: () => ingester.stop(),
  };
}

/** A URL without credentials, for logs. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return url;
  }
}
