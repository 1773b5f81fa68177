// Preloaded into Portkey's gateway (`node --import ./loopback.mjs .../start-server.js`):
// its start-server listens on every interface and takes no host flag, and the benchmark
// binds every server it starts to loopback. Every `listen(port)` gets host 127.0.0.1.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args[0] !== null && typeof args[0] === "object") {
    args[0] = { ...args[0], host: "127.0.0.1" };
  } else if (typeof args[0] === "number" || /^\d+$/.test(String(args[0]))) {
    if (typeof args[1] === "string" || args[1] === undefined || args[1] === null) {
      args[1] = "127.0.0.1";
    } else {
      args.splice(1, 0, "127.0.0.1");
    }
  }
  return listen.apply(this, args);
};
