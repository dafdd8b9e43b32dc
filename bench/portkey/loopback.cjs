// Preload for the Portkey gateway (`node --require bench/portkey/loopback.cjs …`): Portkey's
// start-server calls `serve({ port })`, which listens on every interface. A benchmark must never
// open a port to the network, so every net.Server.listen in this process is forced onto 127.0.0.1.
'use strict';
const net = require('node:net');

const LOOPBACK = '127.0.0.1';
const original = net.Server.prototype.listen;

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    // listen({ port, host }) — a handle or a unix path is left alone (not a network port).
    if (first.path === undefined && first.handle === undefined && first._handle === undefined && first.fd === undefined) {
      args[0] = { ...first, host: LOOPBACK };
    }
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, cb]): replace or insert the host.
    if (args.length >= 2 && (typeof args[1] === 'string' || args[1] === undefined || args[1] === null)) args[1] = LOOPBACK;
    else args.splice(1, 0, LOOPBACK);
  } else if (first === undefined || typeof first === 'function') {
    // listen() / listen(cb): a random port, still on loopback.
    args.splice(0, first === undefined ? 1 : 0, 0, LOOPBACK);
  }
  return original.apply(this, args);
};
