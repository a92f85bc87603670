// kinesalite on 127.0.0.1 only: its own command line ignores --host and
// listens on every interface, so infra.sh starts it through its module API.
// Usage: node kinesalite_server.cjs MODULE_DIR PORT
"use strict";
const [moduleDir, port] = process.argv.slice(2);
const kinesalite = require(moduleDir);
const server = kinesalite({
  createStreamMs: 0,
  deleteStreamMs: 0,
  updateStreamMs: 0,
  shardLimit: 200,
});
server.on("error", (error) => {
  console.error(`kinesalite: ${error.message}`);
  process.exit(1);
});
server.listen(Number(port), "127.0.0.1", () => {
  const address = server.address();
  console.log(`Listening at http://${address.address}:${address.port}`);
});
