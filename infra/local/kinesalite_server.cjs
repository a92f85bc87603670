// kinesalite on 127.0.0.1 only: its own command line ignores --host and
// listens on every interface, so infra.sh starts it through its module API.
// Usage: node kinesalite_server.cjs MODULE_DIR PORT [DATA_DIR]
// With DATA_DIR the streams are kept there (LevelDB) and outlive a restart;
// without it they live in memory and a restart loses them.
"use strict";
const [moduleDir, port, dataDir] = process.argv.slice(2);
const kinesalite = require(moduleDir);
if (dataDir) require("node:fs").mkdirSync(dataDir, { recursive: true });
const server = kinesalite({
  createStreamMs: 0,
  deleteStreamMs: 0,
  updateStreamMs: 0,
  shardLimit: 200,
  ...(dataDir ? { path: dataDir } : {}),
});
server.on("error", (error) => {
  console.error(`kinesalite: ${error.message}`);
  process.exit(1);
});
server.listen(Number(port), "127.0.0.1", () => {
  const address = server.address();
  console.log(`Listening at http://${address.address}:${address.port}`);
});
