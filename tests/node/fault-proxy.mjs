// An HTTP proxy for network-fault tests: it forwards each request to the real server and lets
// a test decide, per Bayeux request, to fail it, answer it with an empty body, or hold the
// answer back; WebSocket upgrades are piped through, swallowed (never answered) or refused
// (503), and a test can cut every piped WebSocket as a network drop would.
import http from "node:http";
import net from "node:net";

/**
 * Starts a proxy in front of `target` ("127.0.0.1:port"). `fault({ channels, n })` is asked
 * for every POST (`channels`: the Bayeux channels in its body, `n`: how many /meta/connect
 * came before it) and returns one of:
 *   undefined            forward untouched
 *   { status: 500 }      answer with that status, not forwarded
 *   { empty: true }      forward, then answer 200 with an empty body (the real reply is lost)
 *   { delayMs: ms }      forward, then hold the real reply back for `ms`
 * With `swallowUpgrades`, WebSocket upgrade requests are accepted and never answered.
 * The answer's `refuseUpgrades(on)` answers new upgrades 503 while on; `cutUpgrades()`
 * destroys both ends of every piped WebSocket, with no close frame.
 */
export async function startProxy(target, { fault = () => undefined, swallowUpgrades = false } = {}) {
  const [host, port] = target.split(":");
  const seen = { connects: 0, faults: [], upgrades: 0 };
  const held = new Set();
  const upgraded = new Set(); // sockets the HTTP server no longer tracks once upgraded
  const piped = new Set(); // the server-side sockets of piped upgrades
  let refusing = false;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const channels = bayeuxChannels(body);
      const action = req.method === "POST" ? fault({ channels, n: seen.connects }) : undefined;
      if (channels.includes("/meta/connect")) seen.connects += 1;
      if (action) seen.faults.push({ channels, action });
      if (action?.status) {
        res.writeHead(action.status, { "content-type": "text/plain" });
        res.end("injected failure");
        return;
      }
      const upstream = http.request({ host, port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        const parts = [];
        up.on("data", (c) => parts.push(c));
        up.on("end", () => {
          const answer = () => {
            const headers = { ...up.headers };
            let payload = Buffer.concat(parts);
            if (action?.empty) payload = Buffer.alloc(0);
            delete headers["transfer-encoding"];
            headers["content-length"] = String(payload.length);
            res.writeHead(up.statusCode, headers);
            res.end(payload);
          };
          if (action?.delayMs) {
            const t = setTimeout(() => {
              held.delete(t);
              if (!res.destroyed) answer();
            }, action.delayMs);
            held.add(t);
          } else {
            answer();
          }
        });
      });
      upstream.on("error", () => res.destroy());
      upstream.end(body);
    });
  });
  server.on("upgrade", (req, socket, head) => {
    seen.upgrades += 1;
    upgraded.add(socket);
    socket.on("close", () => upgraded.delete(socket));
    if (swallowUpgrades) {
      socket.on("error", () => {});
      return; // accepted by TCP, never answered
    }
    if (refusing) {
      socket.on("error", () => {});
      socket.end("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      return;
    }
    const up = net.connect(Number(port), host, () => {
      let raw = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) raw += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      up.write(raw + "\r\n");
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    piped.add(up);
    up.on("error", () => socket.destroy());
    socket.on("error", () => up.destroy());
    up.on("close", () => {
      piped.delete(up);
      socket.destroy();
    });
    socket.on("close", () => up.destroy());
  });
  server.keepAliveTimeout = 60000;
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const close = () =>
    new Promise((r) => {
      for (const t of held) clearTimeout(t);
      for (const s of upgraded) s.destroy();
      for (const s of piped) s.destroy();
      server.closeAllConnections();
      server.close(() => r());
    });
  return {
    url,
    seen,
    close,
    /** While on, new WebSocket upgrades are answered 503 (the server seems down). */
    refuseUpgrades(on) {
      refusing = on;
    },
    /** Cuts every piped WebSocket at both ends, as a network drop would. */
    cutUpgrades() {
      for (const s of upgraded) s.destroy();
      for (const s of piped) s.destroy();
    },
    /** WebSockets piped through right now. */
    liveUpgrades: () => piped.size,
  };
}

function bayeuxChannels(body) {
  try {
    const parsed = JSON.parse(body.toString("utf8") || "null");
    const msgs = Array.isArray(parsed) ? parsed : parsed ? [parsed] : [];
    return msgs.map((m) => m?.channel).filter(Boolean);
  } catch {
    return [];
  }
}
