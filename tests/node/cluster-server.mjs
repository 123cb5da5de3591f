// The cluster form of `sharedServer` (harness.mjs), chosen with CHINWAG_CLUSTER=<nodes>: that
// many Chinwag nodes on one Redis (started here on a free port, stopped by PID) behind the
// shipped nginx recipe (plain round-robin, TLS with a test certificate this process trusts).
// The interop suites that take their server from `sharedServer` then run unchanged through
// the balancer, each request reaching the next node.
import { rmSync } from "node:fs";
import { makeCertificate, trustCertificate, startNodes, startNginx, startRedis, tempDir } from "./deploy-helper.mjs";

/** `count` nodes on one Redis behind nginx; the same shape as `startServer`'s answer. */
export async function startCluster(count) {
  const dir = tempDir("cluster");
  const cert = makeCertificate(dir);
  trustCertificate(cert.pem);
  const redis = await startRedis();
  let nodes;
  let nginx;
  try {
    nodes = await startNodes(count, { extraToml: `[store]\nurl = "${redis.url}"\n` });
    nginx = await startNginx(dir, nodes.upstreams, cert);
  } catch (e) {
    await nodes?.stop();
    await redis.stop();
    throw e;
  }
  const base = `https://127.0.0.1:${nginx.tlsPort}`;
  return {
    base,
    cometd: `${base}/genesys/cometd`,
    async stop() {
      // Nodes first, through the balancer: a stopping node answers its held connects
      // (clients told to reconnect elsewhere) before nginx goes.
      await nodes.stop();
      await nginx.stop();
      await redis.stop();
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
    log: () => nodes.nodes.map((n) => n.log()).join("\n"),
  };
}
