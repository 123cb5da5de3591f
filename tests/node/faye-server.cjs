// The peer server for the Bayeux benchmark: a plain Faye (npm `faye`) Node server mounted at
// the same path as Chinwag's endpoint. Usage: node faye-server.cjs <port>
const http = require("node:http");
const faye = require("faye");

const port = Number(process.argv[2] || 8000);
const bayeux = new faye.NodeAdapter({ mount: "/genesys/cometd", timeout: 25 });
const server = http.createServer();
bayeux.attach(server);
server.listen(port, "127.0.0.1");
